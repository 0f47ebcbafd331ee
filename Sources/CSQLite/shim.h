// The system SQLite (Debian libsqlite3-dev), used by the server's embedded store.
// A system library rather than a Swift package: the store needs only the C API, and the
// distribution's SQLite gets security updates with the OS.
#include <sqlite3.h>
