/**
 * The text files of the busybox image (see busybox.ts): init configuration, the DHCP client hook,
 * users, and the LXD templates for /etc/hostname and /etc/hosts. Pure constants.
 */

/**
 * busybox init: rcS once at boot, then the network bring-up asynchronously (`once`, so a missing
 * DHCP server never delays boot). Shutdown: SIGUSR1 and SIGPWR halt, SIGUSR2 powers off, SIGTERM
 * reboots (busybox 1.35; LXC's busybox template sets `lxc.signal.halt = SIGUSR1`, which also works
 * with older busybox).
 */
export const INITTAB = `# busybox init (Shoal busybox image)
::sysinit:/etc/init.d/rcS
::once:/etc/init.d/network
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/sync
::restart:/sbin/init
`;

export const RCS = `#!/bin/sh
# Runs once at boot: pseudo filesystems (LXC usually mounts them already), hostname.
[ -e /proc/self ] || mount -t proc proc /proc
[ -e /sys/class ] || mount -t sysfs sysfs /sys
mkdir -p /run /tmp /var/log
[ -s /etc/hostname ] && hostname -F /etc/hostname
exit 0
`;

export const NETWORK = `#!/bin/sh
# Brings up lo, then runs the DHCP client on eth0 when the instance has one. udhcpc moves to the
# background once it has a lease (or gives up for now, -b) and keeps renewing it.
ip link set lo up
[ -e /sys/class/net/eth0 ] || exit 0
exec udhcpc -i eth0 -x hostname:"$(hostname)" -s /usr/share/udhcpc/default.script -b -p /run/udhcpc.eth0.pid
`;

/** udhcpc event hook: address, default route and resolv.conf from the lease. */
export const UDHCPC_SCRIPT = `#!/bin/sh
# udhcpc event script: $1 is the event, the lease is in the environment.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip link set "$interface" up
    if ! ip -4 addr show dev "$interface" | grep -q "inet $ip/\${mask:-24} "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/\${mask:-24}" \${broadcast:+broadcast "$broadcast"} dev "$interface"
    fi
    if [ -n "$router" ]; then
      while ip route del default dev "$interface" 2>/dev/null; do :; done
      for r in $router; do
        ip route add default via "$r" dev "$interface" && break
      done
    fi
    {
      [ -n "$domain" ] && echo "search $domain"
      for s in $dns; do echo "nameserver $s"; done
    } >/etc/resolv.conf.new && mv /etc/resolv.conf.new /etc/resolv.conf
    ;;
esac
exit 0
`;

export const PASSWD = `root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`;

export const SHADOW = `root:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
`;

export const GROUP = `root:x:0:
nogroup:x:65534:
`;

export const PROFILE = `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PS1='\\h:\\w\\$ '
`;

export const HOSTNAME = 'busybox\n';

export const HOSTS_TEMPLATE = `127.0.0.1	localhost
127.0.1.1	{{ container.name }}
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
`;

export const HOSTNAME_TEMPLATE = '{{ container.name }}\n';

/** The rendered default of HOSTS_TEMPLATE for the name "busybox". */
export const HOSTS = HOSTS_TEMPLATE.replace('{{ container.name }}', 'busybox');
