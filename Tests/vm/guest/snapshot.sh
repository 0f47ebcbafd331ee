#!/bin/sh
# Runs in a test VM: prints what swiftlet could leave behind, one section per kind, in a
# stable order, so a snapshot before install and one after uninstall can be compared with
# diff. Volatile things that change without swiftlet (journal, systemd's own state, timers,
# the share, the test runner's commands) are left out.
# A boot that has not finished has oneshot units (systemd-update-utmp-runlevel...) with
# cgroups that go away on their own: wait for the boot to end first.
systemctl is-system-running --wait >/dev/null 2>&1
echo "## mounts"
awk '$2 != "/share" {print $2, $3}' /proc/self/mounts | sort
echo "## cgroups"
find /sys/fs/cgroup -type d | sort
echo "## links"
ip -o link show | awk -F': ' '{print $2}' | sort
echo "## addresses"
ip -o addr show | awk '{print $2, $3, $4}' | sort
echo "## routes"
ip route show table all | grep -v '^local\|^broadcast\|^multicast\|^ff00::' | sort
echo "## nftables"
nft list ruleset
echo "## sysctl and modules swiftlet changes"
echo "ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"
for module in br_netfilter overlay; do [ -d /sys/module/$module ] && echo "module $module loaded"; done
echo "## systemd units"
systemctl list-units --all --plain --no-legend 'swiftlet*' | awk '{print $1}' | sort
echo "## files"
find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /share -o -path /var/log/journal \
    -o -path /var/lib/systemd -o -path /var/tmp -o -path /tmp -o -path /var/cache/ldconfig \
    -o -path /etc/ld.so.cache -o -path /var/log/wtmp -o -path /var/log/btmp -o -path /var/log/lastlog \
    -o -path /root/.lesshst \) -prune -o -print | sort
echo "## run"
find /run \( -path /run/systemd -o -path /run/udev -o -path /run/log -o -path /run/user -o -path /run/credentials \
    -o -path /run/lock \) -prune -o -print | sort
