// rtnetlink message builders, reply parsers and the namespace-bound socket (sl_netlink.h).
// Attribute order follows iproute2 6.1 so the bytes match what `ip` sends for the same request.
#include "include/sl_netlink.h"
#include "netlink_ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const uint16_t SL_NLM_F_CREATE = NLM_F_CREATE, SL_NLM_F_EXCL = NLM_F_EXCL, SL_NLM_F_REPLACE = NLM_F_REPLACE;
const uint16_t SL_RTM_NEWLINK = RTM_NEWLINK, SL_RTM_DELLINK = RTM_DELLINK, SL_RTM_NEWADDR = RTM_NEWADDR,
               SL_RTM_DELADDR = RTM_DELADDR, SL_RTM_NEWROUTE = RTM_NEWROUTE, SL_RTM_DELROUTE = RTM_DELROUTE,
               SL_NLMSG_ERROR = NLMSG_ERROR, SL_NLMSG_DONE = NLMSG_DONE;
const uint8_t SL_RT_TABLE_MAIN = RT_TABLE_MAIN, SL_RT_SCOPE_UNIVERSE = RT_SCOPE_UNIVERSE,
              SL_RT_SCOPE_LINK = RT_SCOPE_LINK, SL_RT_SCOPE_NOWHERE = RT_SCOPE_NOWHERE;

// ---- namespaces ----------------------------------------------------------------------------

int sl_ns_enter(int netns_fd, const char **step) {
    if (netns_fd < 0) return -1;
    int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) {
        *step = "open(/proc/thread-self/ns/net)";
        return -2;
    }
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        int err = errno;
        close(saved);
        errno = err;
        *step = "setns(CLONE_NEWNET)";
        return -2;
    }
    return saved;
}

void sl_ns_leave(int saved) {
    if (saved < 0) return;
    int err = errno;
    if (setns(saved, CLONE_NEWNET) < 0) {
        // Continuing would run unrelated work of this thread inside a pod's namespace.
        fprintf(stderr, "swiftlet: cannot return a thread to its own network namespace: %s\n", strerror(errno));
        abort();
    }
    close(saved);
    errno = err;
}

int sl_nl_open(int netns_fd, const char **step) {
    int saved = sl_ns_enter(netns_fd, step);
    if (saved == -2) return -1;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    sl_ns_leave(saved);
    if (fd < 0) {
        *step = "socket(AF_NETLINK, NETLINK_ROUTE)";
        return -1;
    }
    // Both are best effort: without EXT_ACK errors carry no text, without CAP_ACK they echo
    // the whole request; the parser handles either form.
    int one = 1;
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    return fd;
}

int sl_netns_write_file(int netns_fd, const char *path, const char *value, const char **step) {
    int saved = sl_ns_enter(netns_fd, step);
    if (saved == -2) return -1;
    int rc = -1;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        *step = "open";
    } else {
        size_t len = strlen(value);
        ssize_t n;
        do {
            n = write(fd, value, len);
        } while (n < 0 && errno == EINTR);
        if (n == (ssize_t)len) rc = 0;
        else {
            if (n >= 0) errno = EIO;
            *step = "write";
        }
        int err = errno;
        close(fd);
        errno = err;
    }
    sl_ns_leave(saved);
    return rc;
}

// ---- building ------------------------------------------------------------------------------

// A message under construction in the caller's buffer; `overflow` makes every later put a no-op
// so builders check once at the end.
struct nlb {
    uint8_t *buf;
    size_t cap, len;
    int overflow;
};

static void *put(struct nlb *b, const void *data, size_t len) {
    size_t aligned = NLMSG_ALIGN(len);
    if (b->overflow || b->len + aligned > b->cap) {
        b->overflow = 1;
        return NULL;
    }
    uint8_t *at = b->buf + b->len;
    memset(at, 0, aligned);
    if (data) memcpy(at, data, len);
    b->len += aligned;
    return at;
}

static void attr(struct nlb *b, uint16_t type, const void *data, size_t len) {
    struct nlattr head = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};
    put(b, &head, sizeof head);
    put(b, data, len);
}

static void attr_u32(struct nlb *b, uint16_t type, uint32_t value) { attr(b, type, &value, sizeof value); }

static void attr_str(struct nlb *b, uint16_t type, const char *s) { attr(b, type, s, strlen(s) + 1); }

static size_t nest_begin(struct nlb *b, uint16_t type) {
    size_t at = b->len;
    struct nlattr head = {.nla_len = 0, .nla_type = type};
    put(b, &head, sizeof head);
    return at;
}

static void nest_end(struct nlb *b, size_t at) {
    if (b->overflow) return;
    struct nlattr *head = (struct nlattr *)(b->buf + at);
    head->nla_len = (uint16_t)(b->len - at);
}

static void begin(struct nlb *b, uint8_t *buf, size_t cap, uint16_t type, uint16_t flags, uint32_t seq) {
    *b = (struct nlb){.buf = buf, .cap = cap};
    struct nlmsghdr head = {.nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq};
    put(b, &head, sizeof head);
}

static int finish(struct nlb *b) {
    if (b->overflow) {
        errno = ENOSPC;
        return -1;
    }
    ((struct nlmsghdr *)b->buf)->nlmsg_len = (uint32_t)b->len;
    return (int)b->len;
}

static int bad_name(const char *name) {
    if (name == NULL || name[0] == 0 || strlen(name) >= IFNAMSIZ) {
        errno = EINVAL;
        return 1;
    }
    return 0;
}

static const uint16_t REQ = NLM_F_REQUEST | NLM_F_ACK;

int sl_nl_link_bridge(uint8_t *buf, size_t cap, uint32_t seq, uint16_t flags, const char *name, uint32_t mtu,
                      const uint8_t *mac) {
    if (bad_name(name)) return -1;
    struct nlb b;
    begin(&b, buf, cap, RTM_NEWLINK, REQ | flags, seq);
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    put(&b, &ifi, sizeof ifi);
    if (mtu) attr_u32(&b, IFLA_MTU, mtu);
    if (mac) attr(&b, IFLA_ADDRESS, mac, 6);
    attr_str(&b, IFLA_IFNAME, name);
    size_t info = nest_begin(&b, IFLA_LINKINFO);
    attr(&b, IFLA_INFO_KIND, "bridge", 6); // iproute2 sends the kind without its NUL
    nest_end(&b, info);
    return finish(&b);
}

int sl_nl_link_veth(uint8_t *buf, size_t cap, uint32_t seq, uint16_t flags, const char *name, const char *peer,
                    int peer_netns_fd, int master, uint32_t mtu, int up) {
    if (bad_name(name) || bad_name(peer)) return -1;
    struct nlb b;
    begin(&b, buf, cap, RTM_NEWLINK, REQ | flags, seq);
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    if (up) ifi.ifi_flags = ifi.ifi_change = IFF_UP;
    put(&b, &ifi, sizeof ifi);
    if (mtu) attr_u32(&b, IFLA_MTU, mtu);
    if (master > 0) attr_u32(&b, IFLA_MASTER, (uint32_t)master);
    // One queue each way, on both ends (`numtxqueues 1 numrxqueues 1`). Without them a veth is
    // made with a queue per possible CPU and veth_newlink cuts each end down to one with
    // netif_set_real_num_{tx,rx}_queues, which waits for an expedited RCU grace period while
    // holding the RTNL lock: milliseconds per pod, serializing every link change on the host.
    attr_u32(&b, IFLA_NUM_TX_QUEUES, 1);
    attr_u32(&b, IFLA_NUM_RX_QUEUES, 1);
    attr_str(&b, IFLA_IFNAME, name);
    size_t info = nest_begin(&b, IFLA_LINKINFO);
    attr(&b, IFLA_INFO_KIND, "veth", 4);
    size_t data = nest_begin(&b, IFLA_INFO_DATA);
    // The peer is described by its own ifinfomsg + attributes; the kernel creates it straight
    // in the namespace of IFLA_NET_NS_FD, which saves moving it there afterwards.
    size_t peer_at = nest_begin(&b, VETH_INFO_PEER);
    // The peer starts down: asking for it up here is refused with ENOTCONN (kernel 6.18, also
    // through `ip link add ... peer name eth0 up netns X`); it is brought up in its namespace.
    struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
    put(&b, &peer_ifi, sizeof peer_ifi);
    if (mtu) attr_u32(&b, IFLA_MTU, mtu);
    attr_u32(&b, IFLA_NUM_TX_QUEUES, 1);
    attr_u32(&b, IFLA_NUM_RX_QUEUES, 1);
    if (peer_netns_fd >= 0) attr_u32(&b, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
    attr_str(&b, IFLA_IFNAME, peer);
    nest_end(&b, peer_at);
    nest_end(&b, data);
    nest_end(&b, info);
    return finish(&b);
}

int sl_nl_link_del(uint8_t *buf, size_t cap, uint32_t seq, int ifindex, const char *name) {
    if (ifindex <= 0 && bad_name(name)) return -1;
    struct nlb b;
    begin(&b, buf, cap, RTM_DELLINK, REQ, seq);
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex > 0 ? ifindex : 0};
    put(&b, &ifi, sizeof ifi);
    if (ifindex <= 0) attr_str(&b, IFLA_IFNAME, name);
    return finish(&b);
}

int sl_nl_link_set(uint8_t *buf, size_t cap, uint32_t seq, const struct sl_link_change *c) {
    if (c->ifindex <= 0 && bad_name(c->name)) return -1;
    struct nlb b;
    begin(&b, buf, cap, RTM_NEWLINK, REQ, seq);
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = c->ifindex > 0 ? c->ifindex : 0};
    if (c->up >= 0) {
        ifi.ifi_change = IFF_UP;
        ifi.ifi_flags = c->up ? IFF_UP : 0;
    }
    put(&b, &ifi, sizeof ifi);
    if (c->ifindex <= 0) attr_str(&b, IFLA_IFNAME, c->name);
    if (c->mtu) attr_u32(&b, IFLA_MTU, c->mtu);
    if (c->mac) attr(&b, IFLA_ADDRESS, c->mac, 6);
    if (c->master >= 0) attr_u32(&b, IFLA_MASTER, (uint32_t)c->master);
    if (c->hairpin >= 0) {
        // As `ip link set X type bridge_slave hairpin on` spells it: the port's kind and its
        // IFLA_BRPORT_MODE in the slave data.
        size_t info = nest_begin(&b, IFLA_LINKINFO);
        attr(&b, IFLA_INFO_KIND, "bridge_slave", 12);
        size_t data = nest_begin(&b, IFLA_INFO_SLAVE_DATA);
        uint8_t mode = c->hairpin ? 1 : 0;
        attr(&b, IFLA_BRPORT_MODE, &mode, 1);
        nest_end(&b, data);
        nest_end(&b, info);
    }
    return finish(&b);
}

int sl_nl_link_get(uint8_t *buf, size_t cap, uint32_t seq, const char *name) {
    if (bad_name(name)) return -1;
    struct nlb b;
    begin(&b, buf, cap, RTM_GETLINK, REQ, seq);
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    put(&b, &ifi, sizeof ifi);
    attr_str(&b, IFLA_IFNAME, name);
    return finish(&b);
}

static size_t addr_len(int family) { return family == AF_INET6 ? 16 : family == AF_INET ? 4 : 0; }

int sl_nl_addr(uint8_t *buf, size_t cap, uint32_t seq, uint16_t type, uint16_t flags, int family, int ifindex,
               const uint8_t *addr, uint8_t prefixlen) {
    size_t alen = addr_len(family);
    if (!alen || (type != RTM_NEWADDR && type != RTM_DELADDR) || prefixlen > alen * 8) {
        errno = EINVAL;
        return -1;
    }
    struct nlb b;
    begin(&b, buf, cap, type, REQ | flags, seq);
    struct ifaddrmsg ifa = {.ifa_family = (uint8_t)family, .ifa_prefixlen = prefixlen, .ifa_index = (uint32_t)ifindex};
    put(&b, &ifa, sizeof ifa);
    attr(&b, IFA_LOCAL, addr, alen);
    attr(&b, IFA_ADDRESS, addr, alen);
    return finish(&b);
}

int sl_nl_route(uint8_t *buf, size_t cap, uint32_t seq, uint16_t type, uint16_t flags, const struct sl_route *r) {
    size_t alen = addr_len(r->family);
    if (!alen || (type != RTM_NEWROUTE && type != RTM_DELROUTE) || r->dst_len > alen * 8) {
        errno = EINVAL;
        return -1;
    }
    struct nlb b;
    begin(&b, buf, cap, type, REQ | flags, seq);
    struct rtmsg rtm = {
        .rtm_family = r->family,
        .rtm_dst_len = r->dst_len,
        .rtm_table = r->table,
        .rtm_protocol = r->protocol,
        .rtm_scope = r->scope,
        .rtm_type = r->type,
    };
    put(&b, &rtm, sizeof rtm);
    if (r->dst_len) attr(&b, RTA_DST, r->dst, alen);
    if (r->has_gateway) attr(&b, RTA_GATEWAY, r->gateway, alen);
    if (r->oif > 0) attr_u32(&b, RTA_OIF, (uint32_t)r->oif);
    return finish(&b);
}

int sl_nl_route_dump(uint8_t *buf, size_t cap, uint32_t seq, int family) {
    struct nlb b;
    begin(&b, buf, cap, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq);
    struct rtmsg rtm = {.rtm_family = (uint8_t)family};
    put(&b, &rtm, sizeof rtm);
    return finish(&b);
}

// ---- parsing -------------------------------------------------------------------------------

static int bad(void) {
    errno = EBADMSG;
    return -1;
}

// Iterates over the attributes in [start, start + len), stopping at the first malformed one.
#define FOR_ATTRS(start, len, a)                                                                   \
    for (const struct nlattr *a = (const struct nlattr *)(start);                                   \
         (const uint8_t *)a + NLA_HDRLEN <= (const uint8_t *)(start) + (len) && a->nla_len >= NLA_HDRLEN && \
         (const uint8_t *)a + a->nla_len <= (const uint8_t *)(start) + (len);                       \
         a = (const struct nlattr *)((const uint8_t *)a + NLA_ALIGN(a->nla_len)))

static const uint8_t *attr_data(const struct nlattr *a) { return (const uint8_t *)a + NLA_HDRLEN; }
static size_t attr_len(const struct nlattr *a) { return a->nla_len - NLA_HDRLEN; }

int sl_nl_next(const uint8_t *buf, size_t len, size_t *offset, struct sl_nl_reply *out) {
    memset(out, 0, sizeof *out);
    if (*offset >= len) return 0;
    if (len - *offset < sizeof(struct nlmsghdr)) return bad();
    const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + *offset);
    if (h->nlmsg_len < sizeof *h || h->nlmsg_len > len - *offset) return bad();
    out->type = h->nlmsg_type;
    out->flags = h->nlmsg_flags;
    out->seq = h->nlmsg_seq;
    out->payload = (const uint8_t *)h + NLMSG_HDRLEN;
    out->payload_len = h->nlmsg_len - NLMSG_HDRLEN;
    *offset += NLMSG_ALIGN(h->nlmsg_len);
    if (*offset > len) *offset = len;
    if (h->nlmsg_type == NLMSG_ERROR) {
        if (out->payload_len < sizeof(struct nlmsgerr)) return bad();
        const struct nlmsgerr *e = (const struct nlmsgerr *)out->payload;
        out->error = -e->error;
        if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
            // TLVs follow the echoed request: only its header when the ack was capped.
            size_t at = (h->nlmsg_flags & NLM_F_CAPPED) ? sizeof *e : sizeof(int) + NLMSG_ALIGN(e->msg.nlmsg_len);
            if (at <= out->payload_len) {
                FOR_ATTRS(out->payload + at, out->payload_len - at, a) {
                    if (a->nla_type == NLMSGERR_ATTR_MSG && attr_len(a) > 0 && attr_data(a)[attr_len(a) - 1] == 0)
                        out->message = (const char *)attr_data(a);
                }
            }
        }
    } else if (h->nlmsg_type == NLMSG_DONE && out->payload_len >= sizeof(int)) {
        int err;
        memcpy(&err, out->payload, sizeof err);
        out->error = err < 0 ? -err : 0;
    }
    return 1;
}

int sl_nl_parse_link(const uint8_t *payload, size_t len, struct sl_link_info *out) {
    memset(out, 0, sizeof *out);
    if (len < NLMSG_ALIGN(sizeof(struct ifinfomsg))) return bad();
    const struct ifinfomsg *ifi = (const struct ifinfomsg *)payload;
    out->ifindex = ifi->ifi_index;
    out->flags = ifi->ifi_flags;
    size_t at = NLMSG_ALIGN(sizeof *ifi);
    FOR_ATTRS(payload + at, len - at, a) {
        switch (a->nla_type) {
        case IFLA_IFNAME: {
            size_t n = attr_len(a) < sizeof out->name - 1 ? attr_len(a) : sizeof out->name - 1;
            memcpy(out->name, attr_data(a), n);
            out->name[n] = 0;
            break;
        }
        case IFLA_MTU:
            if (attr_len(a) >= 4) memcpy(&out->mtu, attr_data(a), 4);
            break;
        case IFLA_MASTER:
            if (attr_len(a) >= 4) memcpy(&out->master, attr_data(a), 4);
            break;
        }
    }
    return 0;
}

int sl_nl_parse_route(const uint8_t *payload, size_t len, struct sl_route *out) {
    memset(out, 0, sizeof *out);
    if (len < NLMSG_ALIGN(sizeof(struct rtmsg))) return bad();
    const struct rtmsg *rtm = (const struct rtmsg *)payload;
    out->family = rtm->rtm_family;
    out->dst_len = rtm->rtm_dst_len;
    out->protocol = rtm->rtm_protocol;
    out->scope = rtm->rtm_scope;
    out->table = rtm->rtm_table;
    out->type = rtm->rtm_type;
    size_t alen = addr_len(rtm->rtm_family);
    size_t at = NLMSG_ALIGN(sizeof *rtm);
    FOR_ATTRS(payload + at, len - at, a) {
        switch (a->nla_type) {
        case RTA_DST:
            if (alen && attr_len(a) == alen) memcpy(out->dst, attr_data(a), alen);
            break;
        case RTA_GATEWAY:
            if (alen && attr_len(a) == alen) {
                memcpy(out->gateway, attr_data(a), alen);
                out->has_gateway = 1;
            }
            break;
        case RTA_OIF:
            if (attr_len(a) >= 4) memcpy(&out->oif, attr_data(a), 4);
            break;
        case RTA_TABLE: {
            // Tables above 255 only fit here; rtm_table then says RT_TABLE_UNSPEC.
            uint32_t table = 0;
            if (attr_len(a) >= 4) memcpy(&table, attr_data(a), 4);
            out->table = table > 255 ? RT_TABLE_UNSPEC : (uint8_t)table;
            break;
        }
        }
    }
    return 0;
}
