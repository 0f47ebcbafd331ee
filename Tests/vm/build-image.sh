#!/bin/sh
# Tests/vm/build-image.sh [OUTDIR]
#
# Builds the Debian 12 VM image the VM scenarios boot, once: Debian's own kernel
# (linux-image-amd64, from the host's /boot), a tiny busybox initrd that loads the virtio disk
# and ext4 modules and switches to the root filesystem (Debian's initramfs costs 3-5 s per boot
# under software emulation), and a root filesystem made by `debootstrap --variant=minbase` with
# systemd as PID 1, udev, iproute2, kmod, nftables and the shared libraries the swiftlet
# release binary links (docs/install.md lists them). No Swift toolchain: the VMs run what
# install.sh installs.
#
# Output, in OUTDIR (default .build/vm/image), reused while the inputs are unchanged:
#   vmlinuz  initrd.img  rootfs.img (raw ext4, used read-only as the backing file of each VM's
#   qcow2 overlay)  key (hash of this script and the kernel version)
#
# Inside the image:
#   - /share is a 9p mount (mount tag "share") of the host directory the harness exports.
#   - vm-setup.service reads swiftlet.ip=, swiftlet.gw= from the kernel command line and
#     configures eth0 (the hostname comes from systemd.hostname=).
#   - vm-runner.service runs the commands the host drops in /share/vms/<hostname>/cmd/
#     (Tests/vm/lib.sh, vm_exec): each NNN.sh runs once, as root, its output in NNN.out and its
#     exit status in NNN.rc. It writes /share/vms/<hostname>/boot-<boot id> when it starts, so
#     the host can tell a reboot happened.
#
# Needs root and the Debian packages debootstrap, linux-image-amd64, busybox-static, cpio,
# e2fsprogs, kmod (all in scripts/debian-packages). Downloads the guest packages from the
# host's apt mirror (deb.debian.org) when the base is built; the .debs are kept in
# OUTDIR/../debs and the base in OUTDIR/../base-<key>.tar.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${1:-$REPO/.build/vm/image}
MIRROR=${VM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

fatal() { echo "build-image: $*" >&2; exit 1; }
info() { echo "build-image: $*" >&2; }

[ "$(id -u)" = 0 ] || fatal "run as root (debootstrap and mkfs need it)"
export PATH="$PATH:/usr/sbin:/sbin"
for tool in debootstrap mkfs.ext4 cpio depmod modprobe sha256sum; do
    command -v "$tool" >/dev/null 2>&1 ||
        fatal "$tool not found: apt-get install debootstrap e2fsprogs cpio busybox-static kmod"
done
# busybox-static's binary: the initrd has no libraries.
BUSYBOX=/bin/busybox

# Debian's newest installed kernel (linux-image-amd64 pulls it in).
KVER=$(ls /lib/modules | grep -- '-amd64$' | sort -V | tail -n 1)
[ -n "$KVER" ] && [ -f "/boot/vmlinuz-$KVER" ] ||
    fatal "no Debian kernel in /boot and /lib/modules: apt-get install linux-image-amd64"

# The guest's packages: systemd as init, udev (device units, module autoloading), kmod
# (ExecStartPre=modprobe), iproute2, nftables (nft, to check what swiftlet leaves), and the
# libraries of the release binary that have no static archive in Debian or are not linked
# statically (libnftables1 and its dependencies come with nftables).
PACKAGES=systemd,systemd-sysv,udev,kmod,iproute2,nftables,libseccomp2,libcap2,zlib1g,libssl3,libsqlite3-0,procps

# Two stages, cached separately: the debootstrapped base with the kernel modules (minutes;
# rebuilt only when the package list, the kernel or BASE_VERSION change) and the image made
# from it with this script's guest configuration (seconds).
BASE_VERSION=1
BASE_KEY=$(echo "$BASE_VERSION $KVER $PACKAGES $SUITE" | sha256sum | cut -c1-16)
KEY=$( { cat "$0"; echo "$BASE_KEY"; } | sha256sum | cut -c1-16)
if [ -f "$OUT/key" ] && [ "$(cat "$OUT/key")" = "$KEY" ] && [ -f "$OUT/rootfs.img" ]; then
    info "image $OUT is up to date ($KEY)"
    exit 0
fi

START=$(date +%s)
CACHE=$(dirname "$OUT")
BASE=$CACHE/base-$BASE_KEY.tar
WORK="$OUT.tmp"
rm -rf "$WORK"
mkdir -p "$WORK" "$CACHE/debs"
ROOT="$WORK/rootfs"
trap 'rm -rf "$WORK"' EXIT

if [ ! -f "$BASE" ]; then
    info "debootstrap $SUITE (minbase + $PACKAGES)"
    debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$(cd "$CACHE/debs" && pwd)" \
        "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
        { tail -n 30 "$WORK/debootstrap.log" >&2; fatal "debootstrap failed (log above)"; }

    info "kernel modules of $KVER"
    MODS=/lib/modules/$KVER
    mkdir -p "$ROOT$MODS/kernel/drivers"
    cp -a "$MODS"/modules.order "$MODS"/modules.builtin* "$ROOT$MODS/"
    for dir in net fs lib crypto arch; do cp -a "$MODS/kernel/$dir" "$ROOT$MODS/kernel/"; done
    for dir in virtio block net/tun.ko net/veth.ko net/virtio_net.ko net/net_failover.ko net/dummy.ko; do
        mkdir -p "$(dirname "$ROOT$MODS/kernel/drivers/$dir")"
        cp -a "$MODS/kernel/drivers/$dir" "$ROOT$MODS/kernel/drivers/$dir"
    done
    depmod -b "$ROOT" "$KVER"
    rm -rf "$ROOT/var/cache/apt/archives"/*.deb "$ROOT/var/lib/apt/lists"/* "$ROOT/usr/share/doc" "$ROOT/usr/share/man"
    rm -f "$CACHE"/base-*.tar
    tar -C "$ROOT" --numeric-owner -cf "$BASE.tmp" .
    mv "$BASE.tmp" "$BASE"
    rm -rf "$ROOT"
fi
mkdir -p "$ROOT"
tar -C "$ROOT" --numeric-owner -xf "$BASE"

info "configuring the guest"
echo swiftlet-vm > "$ROOT/etc/hostname"
printf 'share\t/share\t9p\ttrans=virtio,version=9p2000.L,msize=262144,nofail\t0\t0\n' > "$ROOT/etc/fstab"
mkdir -p "$ROOT/share"
# No resolver in the test network: pods get this file, nothing answers it.
echo "nameserver 192.0.2.53" > "$ROOT/etc/resolv.conf"
chroot "$ROOT" passwd -d root >/dev/null
# Modules the test network and 9p need before udev gets to them.
printf '9pnet_virtio\n9p\nvirtio_net\n' > "$ROOT/etc/modules-load.d/vm.conf"

cat > "$ROOT/usr/local/sbin/vm-setup" <<'SETUP'
#!/bin/sh
# eth0 from swiftlet.ip= / swiftlet.gw= on the kernel command line.
set -eu
for word in $(cat /proc/cmdline); do
    case "$word" in
        swiftlet.ip=*) ip=${word#swiftlet.ip=} ;;
        swiftlet.gw=*) gw=${word#swiftlet.gw=} ;;
    esac
done
ip link set lo up
[ -n "${ip:-}" ] || exit 0
# The unit waits for udev's eth0 device; under heavy emulation load, wait a little more.
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
ip link set eth0 up
ip addr add "$ip" dev eth0
[ -z "${gw:-}" ] || ip route add default via "$gw"
SETUP
cat > "$ROOT/usr/local/sbin/vm-runner" <<'RUNNER'
#!/bin/sh
# Runs the commands the host drops in /share/vms/<hostname>/cmd/NNN.sh, once each, in order.
dir=/share/vms/$(hostname)
mkdir -p "$dir/cmd"
touch "$dir/boot-$(cat /proc/sys/kernel/random/boot_id)"
while :; do
    for cmd in "$dir"/cmd/*.sh; do
        [ -f "$cmd" ] || continue
        base=${cmd%.sh}
        [ -e "$base.rc" ] || [ -e "$base.running" ] && continue
        touch "$base.running"
        sh "$cmd" >"$base.out" 2>&1 </dev/null
        echo $? > "$base.rc.tmp"
        mv "$base.rc.tmp" "$base.rc"
    done
    sleep 0.2
done
RUNNER
chmod 755 "$ROOT/usr/local/sbin/vm-setup" "$ROOT/usr/local/sbin/vm-runner"
cat > "$ROOT/etc/systemd/system/vm-setup.service" <<'UNIT'
[Unit]
Description=Test VM network from the kernel command line
DefaultDependencies=no
Wants=sys-subsystem-net-devices-eth0.device
After=sys-subsystem-net-devices-eth0.device systemd-modules-load.service systemd-udevd.service
Before=network.target network-online.target
Wants=network.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/vm-setup
[Install]
WantedBy=multi-user.target network-online.target
UNIT
cat > "$ROOT/etc/systemd/system/vm-runner.service" <<'UNIT'
[Unit]
Description=Runs the test harness's commands from /share
After=share.mount vm-setup.service
Requires=share.mount
Wants=vm-setup.service
[Service]
ExecStart=/usr/local/sbin/vm-runner
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
chroot "$ROOT" systemctl enable vm-setup.service vm-runner.service >/dev/null 2>&1
# Boot-time work a throw-away VM does not need: e2scrub_reap took 18 s of a reboot under
# emulation (systemd-analyze blame in the VM test).
chroot "$ROOT" systemctl mask getty@tty1.service serial-getty@ttyS0.service getty-static.service apt-daily.timer \
    apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer >/dev/null 2>&1 || true
# Nothing to wait for: the network is configured by vm-setup.
chroot "$ROOT" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1 || true

info "initrd (busybox)"
INITRD="$WORK/initrd"
mkdir -p "$INITRD/bin" "$INITRD/dev" "$INITRD/proc" "$INITRD/sys" "$INITRD/newroot" "$INITRD/modules"
cp "$BUSYBOX" "$INITRD/bin/busybox"
for mod in virtio_pci virtio_blk ext4; do
    modprobe -S "$KVER" --show-depends "$mod" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' > "$WORK/initrd-modules"
while read -r ko; do cp "$ko" "$INITRD/modules/"; basename "$ko"; done < "$WORK/initrd-modules" > "$INITRD/modules/order"
cat > "$INITRD/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
while read -r ko; do /bin/busybox insmod "/modules/$ko" 2>/dev/null; done < /modules/order
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do /bin/busybox sleep 0.05; i=$((i + 1)); done
/bin/busybox mount -t ext4 -o rw /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; /bin/busybox sh; }
/bin/busybox umount /proc /sys
/bin/busybox mount --move /dev /newroot/dev
exec /bin/busybox switch_root /newroot /sbin/init
INIT
chmod 755 "$INITRD/init"
(cd "$INITRD" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/initrd.img"

info "root filesystem image"
SIZE_MB=$(( $(du -sm "$ROOT" | cut -f1) + 1500 ))
mkfs.ext4 -q -F -L root -d "$ROOT" "$WORK/rootfs.img" "${SIZE_MB}M"
cp "/boot/vmlinuz-$KVER" "$WORK/vmlinuz"

rm -rf "$OUT"
mkdir -p "$OUT"
mv "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/rootfs.img" "$OUT/"
echo "$KEY" > "$OUT/key"
info "built $OUT in $(( $(date +%s) - START )) s"
