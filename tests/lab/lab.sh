#!/usr/bin/env bash
# tests/lab/lab.sh - peerbot's throw-away BGP lab: a real FRR router driven over SSH.
#
#   bash tests/lab/lab.sh deps                  apt-get the packages the lab needs (once per machine)
#   bash tests/lab/lab.sh up                    build the lab; writes $LAB_DIR/lab.json for the tests
#   bash tests/lab/lab.sh status                processes + BGP summaries (exit 0 only if healthy)
#   bash tests/lab/lab.sh vtysh r1|peer [-c CMD ...]   root vtysh on a lab router
#   bash tests/lab/lab.sh birdc [CMD ...]       birdc on the lab's BIRD router
#   bash tests/lab/lab.sh bgpctl [CMD ...]      bgpctl on the lab's OpenBGPD router
#   bash tests/lab/lab.sh down                  remove everything `up` created (pid files / own tags only)
#
# Run as root (network namespaces, useradd, bgpd binds port 179). Debian 12 + FRR 8.4.
# tests/lab_fixture.py (pytest fixture `frr_lab`) drives this script.
#
# Topology. Every non-loopback address lives in the namespaces created here; the only
# listener in the host namespace is 127.0.0.1:$SSH_PORT (a socat forwarder).
#
#   127.0.0.1:$SSH_PORT (host) --socat--> $LAB_DIR/<r1>/ssh/fwd.sock --socat--> 127.0.0.1:$SSH_PORT
#   inside netns <r1>, where sshd drops every login into vtysh (prompt "<r1>#").
#
#   netns pb-r1 "R1" AS 64500 (managed)              netns pb-peer1 "PEER" AS 64501
#   192.0.2.1/30    2001:db8::1/64    <== veth ==>   192.0.2.2/30    2001:db8::2/64     baseline, Established
#   192.0.2.5/30                                     192.0.2.6/30                       spare "v4"
#   192.0.2.9/30                                     192.0.2.10/30  (MD5 lab-md5-secret) spare "v4_md5"
#   2001:db8:1::1/64                                 2001:db8:1::2/64                   spare "v6"
#
#   netns pb-bird "BIRD" AS 64500 (managed, BIRD 2)  <== veth ==>  PEER (second link)
#   192.0.2.13/30                                    192.0.2.14/30                      bird spare "v4"
#   192.0.2.17/30                                    192.0.2.18/30  (MD5 lab-md5-secret) bird spare "v4_md5"
#   2001:db8:2::1/64                                 2001:db8:2::2/64                   bird spare "v6"
#   BIRD runs as root in its netns (bird -c/-s/-P below $LAB_DIR/pb-bird); its main config
#   includes $LAB_DIR/pb-bird/peerbot.d/*.conf, where peerbot writes one file per session over
#   SFTP; the control socket is handed to $LAB_USER (birdc without sudo). Its sshd (port
#   $BIRD_SSH_PORT, same forwarding as R1's) gives a normal /bin/sh, not vtysh. LAB_BIRD=0: no BIRD.
#
#   netns pb-obgp "OBGP" AS 64500 (managed, OpenBGPD) <== veth ==>  PEER (third link)
#   192.0.2.21/30                                    192.0.2.22/30                      obgp spare "v4"
#   192.0.2.25/30                                    192.0.2.26/30  (MD5 lab-md5-secret) obgp spare "v4_md5"
#   bgpd runs as root in its netns (-f $LAB_DIR/pb-obgp/bgpd.conf, control socket below it, handed
#   to $LAB_USER); its main config includes peerbot's index $LAB_DIR/pb-obgp/peerbot.d/peerbot.conf.
#   Its sshd (port $OBGP_SSH_PORT) gives a normal shell + SFTP. LAB_OPENBGPD=0: no OpenBGPD.
#
# PEER is pre-provisioned (passive + update-source) for the spare pairs; R1 does not know
# them, so a test can create "neighbor <peer spare> remote-as 64501" on R1 through the bot
# and watch it come up. R1 also has the (empty) peer-groups TRANSIT and IX-PEERS.
#
# Namespace names double as hostnames, and vtysh builds its prompt from the hostname:
# "pb-r1#" / "pb-r1(config-router)#" - netmiko's cisco_ios driver copes with the '-'.
#
# Everything can be overridden from the environment (SSH_PORT=2223 LAB_DIR=/tmp/x R1_NS=pbx ...);
# `up` records the effective settings in $LAB_DIR/lab.env, and status/vtysh/down re-read them.
set -euo pipefail

LAB_DIR=${LAB_DIR:-/tmp/peerbot-lab}
if [ "${1:-}" != up ] && [ -r "$LAB_DIR/lab.env" ]; then
    # shellcheck disable=SC1091  # settings of the running lab win over defaults
    . "$LAB_DIR/lab.env"
fi

R1_NS=${R1_NS:-pb-r1}                 # namespace = hostname = FRR pathspace of the managed router
PEER_NS=${PEER_NS:-pb-peer1}          # namespace = hostname of the remote peer
R1_AS=${R1_AS:-64500}
PEER_AS=${PEER_AS:-64501}
SSH_PORT=${SSH_PORT:-2222}            # sshd port inside R1 and the host-side 127.0.0.1 port
LAB_USER=${LAB_USER:-peerbot-lab}     # system user for SSH logins, deleted again by `down`
LAB_PASS=${LAB_PASS:-peerbot-lab-pw}
LAB_MD5=${LAB_MD5:-lab-md5-secret}    # TCP-MD5 password of the "v4_md5" spare pair (peer side)
LAB_TIMEOUT=${LAB_TIMEOUT:-30}        # seconds to wait for BGP / sshd in `up`
PEER_GROUPS=${PEER_GROUPS:-"TRANSIT IX-PEERS"}
LAB_BIRD=${LAB_BIRD:-auto}            # 1: also the BIRD 2 router (bird2 package), 0: not; auto: if installed
BIRD_NS=${BIRD_NS:-pb-bird}           # namespace of the BIRD router
BIRD_AS=${BIRD_AS:-$R1_AS}            # the same network as R1: peerbot's sessions use local AS 64500
BIRD_SSH_PORT=${BIRD_SSH_PORT:-2224}  # its sshd (inside BIRD_NS) and the host-side 127.0.0.1 port
BIRD_TEMPLATE=${BIRD_TEMPLATE:-PEERBOT_LAB}  # BIRD "template bgp" with the fast lab timers
LAB_OPENBGPD=${LAB_OPENBGPD:-auto}    # 1: also the OpenBGPD router (openbgpd package), 0: not; auto: if installed
OBGP_NS=${OBGP_NS:-pb-obgp}           # namespace of the OpenBGPD router
OBGP_AS=${OBGP_AS:-$R1_AS}
OBGP_SSH_PORT=${OBGP_SSH_PORT:-2226}  # its sshd (inside OBGP_NS) and the host-side 127.0.0.1 port

# addressing: "<R1 address> <PEER address> <prefix length>"
BASE_V4=(192.0.2.1 192.0.2.2 30)
BASE_V6=(2001:db8::1 2001:db8::2 64)
SPARE_V4=(192.0.2.5 192.0.2.6 30)
SPARE_MD5=(192.0.2.9 192.0.2.10 30)
SPARE_V6=(2001:db8:1::1 2001:db8:1::2 64)
BIRD_V4=(192.0.2.13 192.0.2.14 30)       # "<BIRD address> <PEER address> <prefix length>"
BIRD_MD5=(192.0.2.17 192.0.2.18 30)
BIRD_V6=(2001:db8:2::1 2001:db8:2::2 64)
BIRD_NET4=198.51.100.128/25              # what BIRD originates
OBGP_V4=(192.0.2.21 192.0.2.22 30)       # "<OpenBGPD address> <PEER address> <prefix length>"
OBGP_MD5=(192.0.2.25 192.0.2.26 30)
# prefixes each side originates (documentation space)
R1_NET4=198.51.100.0/24;   R1_NET6=2001:db8:64::/48
PEER_NET4=(203.0.113.0/25 203.0.113.128/25);  PEER_NET6=2001:db8:65::/48

DEVICE_TYPE=cisco_ios                 # the netmiko driver that works best against vtysh
FRR_LIB=/usr/lib/frr
VTYSH=/usr/bin/vtysh
TAG=peerbot-lab                       # own tag: user GECOS, veth alias, marker file
R1_IF=${R1_NS}-eth0
PEER_IF=${PEER_NS}-eth0
BIRD_IF=${BIRD_NS}-eth0
PEER_BIRD_IF=${PEER_NS}-bd0
BIRD_BIN=/usr/sbin/bird
BIRDC_BIN=/usr/sbin/birdc
if [ "$LAB_BIRD" = auto ]; then
    if [ -x "$BIRD_BIN" ] && [ -x "$BIRDC_BIN" ]; then LAB_BIRD=1; else LAB_BIRD=0; fi
fi
OBGP_IF=${OBGP_NS}-eth0
PEER_OBGP_IF=${PEER_NS}-ob0
BGPD_BIN=/usr/sbin/bgpd
BGPCTL_BIN=/usr/sbin/bgpctl
if [ "$LAB_OPENBGPD" = auto ]; then
    if [ -x "$BGPD_BIN" ] && [ -x "$BGPCTL_BIN" ] && getent passwd _openbgpd >/dev/null; then
        LAB_OPENBGPD=1; else LAB_OPENBGPD=0; fi
fi

T0=$(date +%s.%N)
elapsed() { awk -v now="$(date +%s.%N)" -v t="$1" 'BEGIN { printf "%.2f", now - t }'; }
log() { printf '[lab %6ss] %s\n' "$(elapsed "$T0")" "$*"; }
die() { echo "lab.sh: ERROR: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# ============================================================== process helpers (by pid only)
is_running() {   # zombie-aware: daemons re-parent to pid 1, which may reap them late
    local state
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

child_pids() { grep -ls "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3 || true; }

stop_pid() {     # TERM, then KILL after 5 s
    is_running "$1" || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    local _
    for _ in $(seq 50); do is_running "$1" || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}

stop_pidfile() { # $1 pid file, $2 expected /proc/<pid>/comm (guards against pid reuse)
    [ -s "$1" ] || { rm -f "$1"; return 0; }
    local pid
    pid=$(cat "$1")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; then stop_pid "$pid"; fi
    rm -f "$1"
}

# Run "$@" in netns $1 inside a private UTS namespace whose hostname is $1: vtysh's prompt
# (and thus what netmiko keys on) comes from it.
in_ns() {
    local ns=$1; shift
    # shellcheck disable=SC2016  # expanded by the inner sh
    ip netns exec "$ns" unshare --uts -- sh -c 'hostname "$0" && exec "$@"' "$ns" "$@"
}

router_dir() { echo "$LAB_DIR/$1"; }
vtysh_cmd() { echo "$VTYSH --vty_socket $(router_dir "$1")/run --config_dir $(router_dir "$1")"; }

ns_for() {      # accept role aliases as well as namespace names
    case "$1" in
        r1|R1|router|"$R1_NS") echo "$R1_NS" ;;
        peer|PEER|peer1|"$PEER_NS") echo "$PEER_NS" ;;
        bird|BIRD|"$BIRD_NS") echo "$BIRD_NS" ;;
        obgp|openbgpd|"$OBGP_NS") echo "$OBGP_NS" ;;
        *) die "unknown router '$1' (use r1, peer or bird)" ;;
    esac
}

ns_is_ours() {  # marker file from this run, or the alias we put on the veth (survives a lost LAB_DIR)
    [ -e "/var/run/netns/$1" ] || return 1
    grep -qx "$1" "$LAB_DIR/.peerbot-lab" 2>/dev/null && return 0
    # (no "ip | grep -q" here: with pipefail, grep -q exiting early makes ip die of SIGPIPE)
    local links
    links=$(ip -n "$1" -o link show 2>/dev/null) || return 1
    [[ $links == *"alias $TAG"* ]]
}

preflight() {
    need_root
    local b
    for b in ip unshare setsid ss ssh-keygen socat useradd chpasswd \
             "$FRR_LIB/zebra" "$FRR_LIB/bgpd" "$VTYSH" /usr/sbin/sshd; do
        command -v "$b" >/dev/null || die "missing $b - run: $0 deps"
    done
    getent group frrvty >/dev/null || die "group frrvty missing (frr package not installed?)"
    [ ${#PEER_IF} -le 15 ] || die "interface name $PEER_IF too long (15 max): shorten PEER_NS"
    [ ${#R1_IF} -le 15 ] || die "interface name $R1_IF too long (15 max): shorten R1_NS"
    if [ -n "$(ss -Hltn "sport = :$SSH_PORT")" ]; then
        die "127.0.0.1:$SSH_PORT is already in use; set SSH_PORT"
    fi
    if bird_on; then
        for b in "$BIRD_BIN" "$BIRDC_BIN"; do command -v "$b" >/dev/null || die "missing $b - run: $0 deps"; done
        [ ${#BIRD_IF} -le 15 ] || die "interface name $BIRD_IF too long (15 max): shorten BIRD_NS"
        [ ${#PEER_BIRD_IF} -le 15 ] || die "interface name $PEER_BIRD_IF too long (15 max): shorten PEER_NS"
        [ -z "$(ss -Hltn "sport = :$BIRD_SSH_PORT")" ] || die "127.0.0.1:$BIRD_SSH_PORT is already in use; set BIRD_SSH_PORT"
    fi
    if obgp_on; then
        getent passwd _openbgpd >/dev/null || die "user _openbgpd missing (openbgpd package not installed?)"
        [ ${#OBGP_IF} -le 15 ] || die "interface name $OBGP_IF too long (15 max): shorten OBGP_NS"
        [ ${#PEER_OBGP_IF} -le 15 ] || die "interface name $PEER_OBGP_IF too long (15 max): shorten PEER_NS"
        [ -z "$(ss -Hltn "sport = :$OBGP_SSH_PORT")" ] || die "127.0.0.1:$OBGP_SSH_PORT is already in use; set OBGP_SSH_PORT"
    fi
}

bird_on() { [ "$LAB_BIRD" = 1 ]; }
obgp_on() { [ "$LAB_OPENBGPD" = 1 ]; }
lab_namespaces() { echo "$R1_NS $PEER_NS"; if bird_on; then echo "$BIRD_NS"; fi; if obgp_on; then echo "$OBGP_NS"; fi; }

# ============================================================== network
add_pair() {    # $1 R1 address, $2 PEER address, $3 prefix length
    local opt=()
    [[ $1 == *:* ]] && opt=(nodad)
    ip -n "$R1_NS" addr add "$1/$3" dev "$R1_IF" "${opt[@]}"
    ip -n "$PEER_NS" addr add "$2/$3" dev "$PEER_IF" "${opt[@]}"
}

build_net() {
    local ns
    for ns in "$R1_NS" "$PEER_NS"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # own tag inside the namespace itself: survives a wiped LAB_DIR and the veth's deletion
        ip -n "$ns" link set lo alias "$TAG"
    done
    ip link add "$R1_IF" netns "$R1_NS" type veth peer name "$PEER_IF" netns "$PEER_NS"
    ip -n "$R1_NS" link set "$R1_IF" alias "$TAG"
    ip -n "$PEER_NS" link set "$PEER_IF" alias "$TAG"
    # Turn DAD off before the link comes up: bgpd does not start an IPv6 session while
    # the interface only has a *tentative* fe80:: address (that costs ~2 s), and "nodad"
    # makes the global addresses usable at once.
    ip netns exec "$R1_NS" sh -c "echo 0 > /proc/sys/net/ipv6/conf/$R1_IF/accept_dad"
    ip netns exec "$PEER_NS" sh -c "echo 0 > /proc/sys/net/ipv6/conf/$PEER_IF/accept_dad"
    add_pair "${BASE_V4[@]}"; add_pair "${SPARE_V4[@]}"; add_pair "${SPARE_MD5[@]}"
    add_pair "${BASE_V6[@]}"; add_pair "${SPARE_V6[@]}"
    ip -n "$R1_NS" link set "$R1_IF" up
    ip -n "$PEER_NS" link set "$PEER_IF" up
    if bird_on; then build_side_net "$BIRD_NS" "$BIRD_IF" "$PEER_BIRD_IF" "${BIRD_V4[*]}" "${BIRD_MD5[*]}" "${BIRD_V6[*]}"; fi
    if obgp_on; then build_side_net "$OBGP_NS" "$OBGP_IF" "$PEER_OBGP_IF" "${OBGP_V4[*]}" "${OBGP_MD5[*]}"; fi
}

build_side_net() {  # $1 netns, $2 its interface, $3 PEER's, then "<its address> <PEER address> <length>"...
    local ns=$1 if=$2 pif=$3 pair opt
    shift 3
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set lo alias "$TAG"
    ip link add "$if" netns "$ns" type veth peer name "$pif" netns "$PEER_NS"
    ip -n "$ns" link set "$if" alias "$TAG"
    ip -n "$PEER_NS" link set "$pif" alias "$TAG"
    ip netns exec "$ns" sh -c "echo 0 > /proc/sys/net/ipv6/conf/$if/accept_dad"
    ip netns exec "$PEER_NS" sh -c "echo 0 > /proc/sys/net/ipv6/conf/$pif/accept_dad"
    for pair in "$@"; do
        # shellcheck disable=SC2086  # "<address> <PEER address> <length>" into $1..$3
        set -- $pair
        opt=()
        [[ $1 == *:* ]] && opt=(nodad)
        ip -n "$ns" addr add "$1/$3" dev "$if" "${opt[@]}"
        ip -n "$PEER_NS" addr add "$2/$3" dev "$pif" "${opt[@]}"
    done
    ip -n "$ns" link set "$if" up
    ip -n "$PEER_NS" link set "$pif" up
}

# ============================================================== FRR configuration
# Shared "router bgp" header. Lab-only knobs, each worth seconds:
#  - timers bgp 3 9 + per-neighbor "timers connect 1": fast keepalive/hold and reconnects
#  - coalesce-time 50: the default 1 s delays the first UPDATEs
#  - advertisement-interval 0 per neighbor: no MRAI wait
#  - no bgp ebgp-requires-policy: FRR >= 7.4 otherwise sends/accepts 0 prefixes on eBGP
#    sessions without route-maps (RFC 8212)
#  - no bgp network import-check: advertise "network" prefixes that are not in the RIB
bgp_header() {  # $1 AS, $2 router-id
    cat <<EOF
router bgp $1
 bgp router-id $2
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 3 9
 coalesce-time 50
EOF
}

nbr_lines() {   # $1 address, $2 remote AS, $3 description, [$4 extra "neighbor X" words ...]
    local ip=$1 as=$2 desc=$3; shift 3
    echo " neighbor $ip remote-as $as"
    echo " neighbor $ip description $desc"
    echo " neighbor $ip timers connect 1"
    echo " neighbor $ip advertisement-interval 0"
    local extra
    for extra in "$@"; do echo " neighbor $ip $extra"; done
}

write_r1_conf() {
    local pg
    {
        echo "frr defaults traditional"
        echo "hostname $R1_NS"
        echo "!"
        bgp_header "$R1_AS" "${BASE_V4[0]}"
        # Peer-groups without remote-as: the bot does "neighbor X remote-as N" and then
        # "neighbor X peer-group TRANSIT"; members inherit the fast lab timers from the group.
        for pg in $PEER_GROUPS; do
            echo " neighbor $pg peer-group"
            echo " neighbor $pg description lab peer-group $pg"
            echo " neighbor $pg timers connect 1"
            echo " neighbor $pg advertisement-interval 0"
        done
        nbr_lines "${BASE_V4[1]}" "$PEER_AS" "$PEER_NS-v4"
        nbr_lines "${BASE_V6[1]}" "$PEER_AS" "$PEER_NS-v6"
        cat <<EOF
 address-family ipv4 unicast
  network $R1_NET4
  no neighbor ${BASE_V6[1]} activate
 exit-address-family
 address-family ipv6 unicast
  network $R1_NET6
  neighbor ${BASE_V6[1]} activate
 exit-address-family
exit
!
EOF
    } > "$(router_dir "$R1_NS")/frr.conf"
}

write_peer_conf() {
    local r1=$R1_NS
    {
        echo "frr defaults traditional"
        echo "hostname $PEER_NS"
        echo "!"
        bgp_header "$PEER_AS" "${BASE_V4[1]}"
        nbr_lines "${BASE_V4[0]}" "$R1_AS" "$r1-v4"
        nbr_lines "${BASE_V6[0]}" "$R1_AS" "$r1-v6"
        # Spares: passive (R1 must open the session, i.e. the bot's config is what matters)
        # and update-source pinned to the matching spare address.
        nbr_lines "${SPARE_V4[0]}" "$R1_AS" "spare-v4" passive "update-source ${SPARE_V4[1]}"
        nbr_lines "${SPARE_MD5[0]}" "$R1_AS" "spare-v4-md5" passive "update-source ${SPARE_MD5[1]}" \
            "password $LAB_MD5"
        nbr_lines "${SPARE_V6[0]}" "$R1_AS" "spare-v6" passive "update-source ${SPARE_V6[1]}"
        if bird_on; then
            nbr_lines "${BIRD_V4[0]}" "$BIRD_AS" "bird-v4" passive "update-source ${BIRD_V4[1]}"
            nbr_lines "${BIRD_MD5[0]}" "$BIRD_AS" "bird-v4-md5" passive "update-source ${BIRD_MD5[1]}" \
                "password $LAB_MD5"
            nbr_lines "${BIRD_V6[0]}" "$BIRD_AS" "bird-v6" passive "update-source ${BIRD_V6[1]}"
        fi
        if obgp_on; then
            nbr_lines "${OBGP_V4[0]}" "$OBGP_AS" "obgp-v4" passive "update-source ${OBGP_V4[1]}"
            nbr_lines "${OBGP_MD5[0]}" "$OBGP_AS" "obgp-v4-md5" passive "update-source ${OBGP_MD5[1]}" \
                "password $LAB_MD5"
        fi
        echo " address-family ipv4 unicast"
        local n
        for n in "${PEER_NET4[@]}"; do echo "  network $n"; done
        echo "  no neighbor ${BASE_V6[0]} activate"
        echo " exit-address-family"
        # The v6 spare is activated in BOTH families here, so it comes up whether the bot
        # activates it in ipv6 unicast or leaves FRR's default (ipv4 unicast only).
        cat <<EOF
 address-family ipv6 unicast
  network $PEER_NET6
  neighbor ${BASE_V6[0]} activate
  neighbor ${SPARE_V6[0]} activate
$(if bird_on; then echo "  neighbor ${BIRD_V6[0]} activate"; fi)
 exit-address-family
exit
!
EOF
    } > "$(router_dir "$PEER_NS")/frr.conf"
}

prepare_dirs() {
    local ns d
    for ns in "$R1_NS" "$PEER_NS"; do
        d=$(router_dir "$ns")
        mkdir -p "$d/run" "$d/ssh"
        : > "$d/vtysh.conf"
    done
    write_r1_conf
    write_peer_conf
    cp "$(router_dir "$R1_NS")/frr.conf" "$(router_dir "$R1_NS")/frr.conf.baseline"
    # The daemons run as user frr; the SSH user is in group frrvty, which may use the vty
    # sockets and `write memory` into frr.conf. setgid dirs keep new files in frrvty.
    for ns in "$R1_NS" "$PEER_NS"; do
        d=$(router_dir "$ns")
        chown -R frr:frrvty "$d"
        chmod 2775 "$d" "$d/run"
        chmod 0664 "$d/frr.conf" "$d/vtysh.conf"
    done
}

start_frr() {   # zebra + bgpd in netns $1, every path below $LAB_DIR/$1, pathspace -N $1
    local ns=$1 d daemon _
    d=$(router_dir "$ns")
    # zebra is required: bgpd -Z (no zebra) flaps IPv6 sessions over link-local next hops.
    for daemon in zebra bgpd; do
        # -f /dev/null: start empty and push the integrated config with `vtysh -b` (like
        # frrinit.sh does); -P 0: no TCP vty port, vtysh talks over the unix sockets in run/.
        in_ns "$ns" "$FRR_LIB/$daemon" -d -N "$ns" -f /dev/null -P 0 \
            --vty_socket "$d/run" -i "$d/run/$daemon.pid" -z "$d/run/zserv.api" \
            --log "file:$d/frr.log" </dev/null >>"$d/daemons.out" 2>&1
    done
    for _ in $(seq 100); do
        [ -S "$d/run/zebra.vty" ] && [ -S "$d/run/bgpd.vty" ] && break
        sleep 0.05
    done
    [ -S "$d/run/bgpd.vty" ] || die "$ns: bgpd did not come up, see $d/frr.log"
    $(vtysh_cmd "$ns") -b >"$d/vtysh-boot.log" 2>&1 || die "$ns: vtysh -b failed: $(cat "$d/vtysh-boot.log")"
}

# ============================================================== SSH access to R1
ensure_user() {
    local home
    home=$(router_dir "$R1_NS")/home
    if getent passwd "$LAB_USER" >/dev/null; then
        # only ever reuse a user that an earlier (crashed) run of this script created
        [ "$(getent passwd "$LAB_USER" | cut -d: -f5)" = "$TAG" ] \
            || die "user $LAB_USER exists and is not ours; set LAB_USER"
        usermod -d "$home" -G frrvty "$LAB_USER"
    else
        useradd --system --no-create-home --home-dir "$home" --shell /bin/sh \
            --comment "$TAG" --groups frrvty "$LAB_USER"
    fi
    echo "$LAB_USER:$LAB_PASS" | chpasswd
    mkdir -p "$home"
    chown "$LAB_USER" "$home"
}

start_ssh() {
    local s
    s=$(router_dir "$R1_NS")/ssh
    ssh-keygen -q -t ed25519 -N '' -C "$TAG-host" -f "$s/host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C "$TAG-client" -f "$LAB_DIR/id_ed25519"   # key-auth tests
    cp "$LAB_DIR/id_ed25519.pub" "$s/authorized_keys"
    # Login "shell": every session is vtysh on R1; `ssh host 'show ...'` runs vtysh -c.
    cat > "$s/login-vtysh" <<EOF
#!/bin/sh
[ -n "\$SSH_ORIGINAL_COMMAND" ] && exec $(vtysh_cmd "$R1_NS") -c "\$SSH_ORIGINAL_COMMAND"
exec $(vtysh_cmd "$R1_NS")
EOF
    chmod 0755 "$s/login-vtysh"
    cat > "$s/sshd_config" <<EOF
# peerbot lab sshd - runs only inside netns $R1_NS
Port $SSH_PORT
ListenAddress 0.0.0.0
ListenAddress ::
HostKey $s/host_ed25519
PidFile $s/sshd.pid
# no PAM: plain shadow-password check, no pam_faildelay (a bad password fails fast)
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $s/authorized_keys
# StrictModes would reject authorized_keys below world-writable /tmp
StrictModes no
PermitRootLogin no
AllowUsers $LAB_USER
PrintMotd no
PrintLastLog no
UseDNS no
AllowTcpForwarding no
X11Forwarding no
MaxStartups 50:30:100
ForceCommand $s/login-vtysh
EOF
    # privilege-separation dir sshd insists on (even for -t); shared with any host sshd
    [ -d /run/sshd ] || install -d -m 0755 /run/sshd
    /usr/sbin/sshd -t -f "$s/sshd_config" || die "sshd -t rejected $s/sshd_config"
    in_ns "$R1_NS" /usr/sbin/sshd -f "$s/sshd_config" -E "$s/sshd.log" </dev/null >/dev/null 2>&1

    # Unix sockets are filesystem objects and so cross network namespaces: a socat inside
    # R1 turns fwd.sock into TCP to sshd, a socat on the host exposes fwd.sock on 127.0.0.1.
    setsid ip netns exec "$R1_NS" socat -lf "$s/socat-ns.log" \
        "UNIX-LISTEN:$s/fwd.sock,fork,mode=600,unlink-early" "TCP4:127.0.0.1:$SSH_PORT" \
        </dev/null >/dev/null 2>&1 &
    echo $! > "$s/socat-ns.pid"
    local _
    for _ in $(seq 60); do [ -S "$s/fwd.sock" ] && break; sleep 0.05; done
    setsid socat -lf "$s/socat-host.log" \
        "TCP4-LISTEN:$SSH_PORT,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$s/fwd.sock" \
        </dev/null >/dev/null 2>&1 &
    echo $! > "$s/socat-host.pid"
}

# ============================================================== the BIRD 2 router
bird_dir() { router_dir "$BIRD_NS"; }
birdc_cmd() { echo "$BIRDC_BIN -s $(bird_dir)/bird.ctl"; }

write_bird_conf() {
    local d
    d=$(bird_dir)
    # The lab's own part of the main config: everything per session comes from peerbot's files
    # in peerbot.d. The template holds the lab-only fast timers (the FRR lab's "timers 3 9" and
    # "timers connect 1"); the tests put their BIRD sessions in it as their peer group.
    cat > "$d/bird.conf" <<EOF
# peerbot lab BIRD router $BIRD_NS (AS $BIRD_AS)
log "$d/bird.log" all;
router id ${BIRD_V4[0]};
protocol device { scan time 10; }
protocol static lab_static4 { ipv4; route $BIRD_NET4 blackhole; }
template bgp $BIRD_TEMPLATE {
  hold time 9;
  keepalive time 3;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 5;
}
include "$d/peerbot.d/*.conf";
EOF
}

start_bird() {
    local d _
    d=$(bird_dir)
    mkdir -p "$d/peerbot.d" "$d/ssh"
    write_bird_conf
    # peerbot (the SSH user) owns the include directory and may read the main config
    chown "$LAB_USER" "$d/peerbot.d"
    chmod 0755 "$d" "$d/peerbot.d"
    chmod 0644 "$d/bird.conf"
    "$BIRD_BIN" -p -c "$d/bird.conf" || die "bird -p rejected $d/bird.conf"
    # root in its own namespace (binds 179, TCP-MD5 sockets); daemonizes, pid file below $d
    in_ns "$BIRD_NS" "$BIRD_BIN" -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid" \
        </dev/null >>"$d/daemon.out" 2>&1 || die "bird did not start: $(cat "$d/daemon.out")"
    for _ in $(seq 100); do [ -S "$d/bird.ctl" ] && break; sleep 0.05; done
    [ -S "$d/bird.ctl" ] || die "bird: no control socket $d/bird.ctl, see $d/bird.log"
    # birdc for the SSH user without sudo: the socket is a file, its owner may connect
    chown "$LAB_USER" "$d/bird.ctl"
    chmod 0600 "$d/bird.ctl"
    $(birdc_cmd) show status >/dev/null || die "birdc cannot talk to bird"
}

# sshd inside netns $1 on port $2 (config in $3), forwarded to 127.0.0.1:$2 on the host
# through $3/fwd.sock like R1's; $4: ForceCommand or "" (a normal shell, with SFTP)
start_sshd_in() {
    local ns=$1 port=$2 s=$3 force=$4
    [ -e "$s/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$TAG-host" -f "$s/host_ed25519"
    cp "$LAB_DIR/id_ed25519.pub" "$s/authorized_keys"
    cat > "$s/sshd_config" <<EOF
# peerbot lab sshd - runs only inside netns $ns
Port $port
ListenAddress 0.0.0.0
ListenAddress ::
HostKey $s/host_ed25519
PidFile $s/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $s/authorized_keys
StrictModes no
PermitRootLogin no
AllowUsers $LAB_USER
PrintMotd no
PrintLastLog no
UseDNS no
AllowTcpForwarding no
X11Forwarding no
MaxStartups 50:30:100
Subsystem sftp internal-sftp
EOF
    if [ -n "$force" ]; then echo "ForceCommand $force" >> "$s/sshd_config"; fi
    [ -d /run/sshd ] || install -d -m 0755 /run/sshd
    /usr/sbin/sshd -t -f "$s/sshd_config" || die "sshd -t rejected $s/sshd_config"
    in_ns "$ns" /usr/sbin/sshd -f "$s/sshd_config" -E "$s/sshd.log" </dev/null >/dev/null 2>&1
    setsid ip netns exec "$ns" socat -lf "$s/socat-ns.log" \
        "UNIX-LISTEN:$s/fwd.sock,fork,mode=600,unlink-early" "TCP4:127.0.0.1:$port" \
        </dev/null >/dev/null 2>&1 &
    echo $! > "$s/socat-ns.pid"
    local _
    for _ in $(seq 60); do [ -S "$s/fwd.sock" ] && break; sleep 0.05; done
    setsid socat -lf "$s/socat-host.log" \
        "TCP4-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$s/fwd.sock" \
        </dev/null >/dev/null 2>&1 &
    echo $! > "$s/socat-host.pid"
}

stop_forwarded_sshd() {  # $1 ssh dir: host forwarder (+ children), netns forwarder, sshd
    local s=$1 pid
    if [ -s "$s/socat-host.pid" ] && [ "$(cat "/proc/$(cat "$s/socat-host.pid")/comm" 2>/dev/null)" = socat ]; then
        for pid in $(child_pids "$(cat "$s/socat-host.pid")"); do stop_pid "$pid"; done
    fi
    stop_pidfile "$s/socat-host.pid" socat
    for pid in $(grep -lsaF "UNIX-CONNECT:$s/fwd.sock" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
        if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = socat ]; then stop_pid "$pid"; fi
    done
    stop_pidfile "$s/socat-ns.pid" socat
    stop_pidfile "$s/sshd.pid" sshd
}

# ============================================================== the OpenBGPD router
obgp_dir() { router_dir "$OBGP_NS"; }
bgpctl_cmd() { echo "$BGPCTL_BIN -s $(obgp_dir)/bgpd.sock"; }

start_openbgpd() {
    local d _
    d=$(obgp_dir)
    mkdir -p "$d/peerbot.d" "$d/ssh"
    # The lab's part of the main config; every session comes from peerbot's files, through the
    # index peerbot keeps. Lab-only fast timers are global (holdtime 9, connect-retry 2).
    cat > "$d/bgpd.conf" <<EOF
# peerbot lab OpenBGPD router $OBGP_NS (AS $OBGP_AS)
AS $OBGP_AS
router-id ${OBGP_V4[0]}
socket "$d/bgpd.sock"
holdtime 9
connect-retry 2
fib-update no
include "$d/peerbot.d/peerbot.conf"
EOF
    echo "# Managed by peerbot: one include line per session file in this directory." > "$d/peerbot.d/peerbot.conf"
    chown "$LAB_USER" "$d/peerbot.d" "$d/peerbot.d/peerbot.conf"
    chmod 0755 "$d" "$d/peerbot.d"
    chmod 0644 "$d/bgpd.conf" "$d/peerbot.d/peerbot.conf"
    "$BGPD_BIN" -n -f "$d/bgpd.conf" >"$d/check.out" 2>&1 || die "bgpd -n rejected $d/bgpd.conf: $(cat "$d/check.out")"
    # bgpd's privsep children chroot to _openbgpd's home (the packaged unit's RuntimeDirectory)
    install -d -m 0755 "$(getent passwd _openbgpd | cut -d: -f6)"
    # root in its own namespace; -d: in the foreground (setsid'ed here), so its pid is known
    setsid ip netns exec "$OBGP_NS" "$BGPD_BIN" -d -f "$d/bgpd.conf" </dev/null >>"$d/bgpd.log" 2>&1 &
    echo $! > "$d/bgpd.pid"
    for _ in $(seq 100); do [ -S "$d/bgpd.sock" ] && break; sleep 0.05; done
    [ -S "$d/bgpd.sock" ] || die "bgpd: no control socket $d/bgpd.sock, see $d/bgpd.log"
    chown "$LAB_USER" "$d/bgpd.sock"
    chmod 0600 "$d/bgpd.sock"
    $(bgpctl_cmd) show >/dev/null || die "bgpctl cannot talk to bgpd"
}

obgp_json() {
    if ! obgp_on; then echo null; return; fi
    local d
    d=$(obgp_dir)
    cat <<EOF
{
    "platform": "openbgpd", "host": "127.0.0.1", "port": $OBGP_SSH_PORT, "name": "$OBGP_NS", "asn": $OBGP_AS,
    "router_id": "${OBGP_V4[0]}", "config": "$d/bgpd.conf", "include_dir": "$d/peerbot.d", "socket": "$d/bgpd.sock",
    "bgpctl": $(json_list "$BGPCTL_BIN" -s "$d/bgpd.sock"),
    "spares": {
$(spare_json v4 ipv4 "" "${OBGP_V4[@]}"),
$(spare_json v4_md5 ipv4 "$LAB_MD5" "${OBGP_MD5[@]}")
    }
  }
EOF
}

bird_json() {
    if ! bird_on; then echo null; return; fi
    local d
    d=$(bird_dir)
    cat <<EOF
{
    "platform": "bird2", "host": "127.0.0.1", "port": $BIRD_SSH_PORT, "name": "$BIRD_NS", "asn": $BIRD_AS,
    "router_id": "${BIRD_V4[0]}", "prefixes_v4": $(json_list "$BIRD_NET4"), "template": "$BIRD_TEMPLATE",
    "config": "$d/bird.conf", "include_dir": "$d/peerbot.d", "socket": "$d/bird.ctl",
    "birdc": $(json_list "$BIRDC_BIN" -s "$d/bird.ctl"),
    "spares": {
$(spare_json v4 ipv4 "" "${BIRD_V4[@]}"),
$(spare_json v4_md5 ipv4 "$LAB_MD5" "${BIRD_MD5[@]}"),
$(spare_json v6 ipv6 "" "${BIRD_V6[@]}")
    }
  }
EOF
}

# ============================================================== waits
nbr_state() {   # R1's view of neighbor $1: bgpState, plus "+pfx" once a prefix was accepted
    local j
    j=$($(vtysh_cmd "$R1_NS") -c "show bgp neighbors $1 json" 2>/dev/null) || true
    printf '%s' "$(grep -o '"bgpState":"[^"]*"' <<<"$j" | cut -d'"' -f4)"
    if grep -q '"acceptedPrefixCounter":[1-9]' <<<"$j"; then printf '+pfx'; fi
}

wait_bgp() {    # "Established" alone is not enough - the first UPDATEs follow ~1 s later
    local t=$1 deadline v4 v6 seen=""
    deadline=$(( $(date +%s) + LAB_TIMEOUT ))
    while :; do
        v4=$(nbr_state "${BASE_V4[1]}"); v6=$(nbr_state "${BASE_V6[1]}")
        if [ -z "$seen" ] && [ "${v4%+pfx}" = Established ] && [ "${v6%+pfx}" = Established ]; then
            seen=1; log "BGP v4+v6 Established $(elapsed "$t")s after config load"
        fi
        [ "$v4" = Established+pfx ] && [ "$v6" = Established+pfx ] && break
        [ "$(date +%s)" -lt "$deadline" ] \
            || die "BGP not converged after ${LAB_TIMEOUT}s (v4=$v4 v6=$v6); see $LAB_DIR/*/frr.log"
        sleep 0.1
    done
    log "prefixes received on both baseline sessions $(elapsed "$t")s after config load"
}

wait_ssh() {    # read the SSH banner through the host-side forwarder ($1: port, default SSH_PORT)
    local port=${1:-$SSH_PORT} deadline banner
    deadline=$(( $(date +%s) + LAB_TIMEOUT ))
    while :; do
        banner=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; head -c 7 <&3" 2>/dev/null || true)
        [ "$banner" = SSH-2.0 ] && break
        [ "$(date +%s)" -lt "$deadline" ] \
            || die "sshd not reachable on 127.0.0.1:$port; see $LAB_DIR/*/ssh/*.log"
        sleep 0.1
    done
    log "sshd answers on 127.0.0.1:$port"
}

# ============================================================== outputs
json_list() { local out="" x; for x in "$@"; do out+="${out:+, }\"$x\""; done; printf '[%s]' "$out"; }
vtysh_json() { local d; d=$(router_dir "$1"); json_list "$VTYSH" --vty_socket "$d/run" --config_dir "$d"; }

spare_json() {  # $1 name, $2 afi, $3 md5 or "", $4 R1 address, $5 PEER address, $6 prefix length
    local md5=null
    [ -n "$3" ] && md5="\"$3\""
    printf '    "%s": {"afi": "%s", "router_ip": "%s", "peer_ip": "%s", "prefixlen": %s, "md5": %s}' \
        "$1" "$2" "$4" "$5" "$6" "$md5"
}

write_lab_json() {  # everything the tests need; parsed by tests/lab_fixture.py
    local r1d
    r1d=$(router_dir "$R1_NS")
    cat > "$LAB_DIR/lab.json.tmp" <<EOF
{
  "platform": "frr",
  "device_type": "$DEVICE_TYPE",
  "host": "127.0.0.1",
  "port": $SSH_PORT,
  "username": "$LAB_USER",
  "password": "$LAB_PASS",
  "key_file": "$LAB_DIR/id_ed25519",
  "lab_dir": "$LAB_DIR",
  "config_file": "$r1d/frr.conf",
  "baseline_config_file": "$r1d/frr.conf.baseline",
  "router": {
    "name": "$R1_NS", "asn": $R1_AS, "router_id": "${BASE_V4[0]}",
    "v4": "${BASE_V4[0]}", "v6": "${BASE_V6[0]}",
    "prefixes_v4": $(json_list "$R1_NET4"), "prefixes_v6": $(json_list "$R1_NET6"),
    "config_file": "$r1d/frr.conf", "vtysh": $(vtysh_json "$R1_NS")
  },
  "peer": {
    "name": "$PEER_NS", "asn": $PEER_AS, "router_id": "${BASE_V4[1]}",
    "v4": "${BASE_V4[1]}", "v6": "${BASE_V6[1]}",
    "prefixes_v4": $(json_list "${PEER_NET4[@]}"), "prefixes_v6": $(json_list "$PEER_NET6"),
    "config_file": "$(router_dir "$PEER_NS")/frr.conf", "vtysh": $(vtysh_json "$PEER_NS")
  },
  "baseline": [
    {"afi": "ipv4", "router_ip": "${BASE_V4[0]}", "peer_ip": "${BASE_V4[1]}", "prefixlen": ${BASE_V4[2]}, "description": "$PEER_NS-v4"},
    {"afi": "ipv6", "router_ip": "${BASE_V6[0]}", "peer_ip": "${BASE_V6[1]}", "prefixlen": ${BASE_V6[2]}, "description": "$PEER_NS-v6"}
  ],
  "spares": {
$(spare_json v4 ipv4 "" "${SPARE_V4[@]}"),
$(spare_json v4_md5 ipv4 "$LAB_MD5" "${SPARE_MD5[@]}"),
$(spare_json v6 ipv6 "" "${SPARE_V6[@]}")
  },
  "peer_groups": $(json_list $PEER_GROUPS),
  "md5_password": "$LAB_MD5",
  "bird": $(bird_json),
  "openbgpd": $(obgp_json)
}
EOF
    mv "$LAB_DIR/lab.json.tmp" "$LAB_DIR/lab.json"
}

write_lab_env() {   # lets status/vtysh/down find a lab started with non-default settings
    declare -p R1_NS PEER_NS R1_AS PEER_AS SSH_PORT LAB_USER LAB_PASS LAB_MD5 PEER_GROUPS \
        LAB_BIRD BIRD_NS BIRD_AS BIRD_SSH_PORT BIRD_TEMPLATE LAB_OPENBGPD OBGP_NS OBGP_AS OBGP_SSH_PORT \
        | sed 's/^declare -- //' > "$LAB_DIR/lab.env"
}

# ============================================================== commands
cmd_up() {
    need_root
    if [ -e "$LAB_DIR/.peerbot-lab" ] || ns_is_ours "$R1_NS" || ns_is_ours "$PEER_NS" || ns_is_ours "$BIRD_NS" \
            || ns_is_ours "$OBGP_NS"; then
        log "leftovers of an earlier run found - tearing them down first"
        # with the settings that run recorded (its namespaces, user, port), if it got that far
        # shellcheck disable=SC1091
        ( if [ -r "$LAB_DIR/lab.env" ]; then . "$LAB_DIR/lab.env"; fi; cmd_down )
    fi
    preflight
    local ns t_cfg
    for ns in $(lab_namespaces); do
        [ -e "/var/run/netns/$ns" ] && die "netns $ns exists and is not ours; remove it or set R1_NS/PEER_NS/BIRD_NS/OBGP_NS"
    done
    mkdir -p "$LAB_DIR"
    # shellcheck disable=SC2046
    printf '%s\n' $(lab_namespaces) > "$LAB_DIR/.peerbot-lab"   # ownership marker for `down`
    write_lab_env
    build_net;    log "namespaces $R1_NS + $PEER_NS and veth ready"
    prepare_dirs
    t_cfg=$(date +%s.%N)
    start_frr "$R1_NS"; start_frr "$PEER_NS"
    log "FRR (zebra+bgpd) running in both namespaces, config loaded"
    ensure_user; start_ssh
    if bird_on; then
        start_bird
        start_sshd_in "$BIRD_NS" "$BIRD_SSH_PORT" "$(bird_dir)/ssh" ""
        log "BIRD running in $BIRD_NS (its sshd on port $BIRD_SSH_PORT)"
    fi
    if obgp_on; then
        start_openbgpd
        start_sshd_in "$OBGP_NS" "$OBGP_SSH_PORT" "$(obgp_dir)/ssh" ""
        log "OpenBGPD running in $OBGP_NS (its sshd on port $OBGP_SSH_PORT)"
    fi
    wait_bgp "$t_cfg"
    wait_ssh
    if bird_on; then wait_ssh "$BIRD_SSH_PORT"; fi
    if obgp_on; then wait_ssh "$OBGP_SSH_PORT"; fi
    write_lab_json
    log "lab up in $(elapsed "$T0")s - $LAB_DIR/lab.json"
    cat <<EOF
  netmiko: ConnectHandler(device_type="$DEVICE_TYPE", host="127.0.0.1", port=$SSH_PORT,
                          username="$LAB_USER", password="$LAB_PASS")   # or key_file=$LAB_DIR/id_ed25519
  R1   $R1_NS AS$R1_AS ${BASE_V4[0]} ${BASE_V6[0]}   PEER $PEER_NS AS$PEER_AS ${BASE_V4[1]} ${BASE_V6[1]}
  spares (R1/PEER): ${SPARE_V4[0]}/${SPARE_V4[1]}  ${SPARE_MD5[0]}/${SPARE_MD5[1]} (md5 $LAB_MD5)  ${SPARE_V6[0]}/${SPARE_V6[1]}
  debug: bash $0 vtysh r1 -c 'show bgp summary'   logs: $LAB_DIR/*/frr.log
EOF
}

cmd_down() {
    need_root
    local s ns pid owned=()
    # decide ownership before anything is deleted (deleting one end of the veth removes both)
    for ns in "$R1_NS" "$PEER_NS" "$BIRD_NS" "$OBGP_NS"; do
        if ns_is_ours "$ns"; then owned+=("$ns"); fi
    done
    # the OpenBGPD router: its sshd, bgpd (pid of "ip netns exec", which execs bgpd), namespace
    stop_forwarded_sshd "$(obgp_dir)/ssh"
    stop_pidfile "$(obgp_dir)/bgpd.pid" bgpd
    if [[ " ${owned[*]} " == *" $OBGP_NS "* ]]; then
        for pid in $(ip netns pids "$OBGP_NS" 2>/dev/null); do stop_pid "$pid"; done
        ip netns del "$OBGP_NS"
    fi
    # the BIRD router (whether or not this lab had one: all of it is by pid file / own tag)
    stop_forwarded_sshd "$(bird_dir)/ssh"
    stop_pidfile "$(bird_dir)/bird.pid" bird
    if [[ " ${owned[*]} " == *" $BIRD_NS "* ]]; then
        for pid in $(ip netns pids "$BIRD_NS" 2>/dev/null); do stop_pid "$pid"; done
        ip netns del "$BIRD_NS"
    fi
    s=$(router_dir "$R1_NS")/ssh
    # host-side forwarder first, with the per-connection children it forked
    if [ -s "$s/socat-host.pid" ] && [ "$(cat "/proc/$(cat "$s/socat-host.pid")/comm" 2>/dev/null)" = socat ]; then
        for pid in $(child_pids "$(cat "$s/socat-host.pid")"); do stop_pid "$pid"; done
    fi
    stop_pidfile "$s/socat-host.pid" socat
    # pid file lost (LAB_DIR wiped after a crash)? our forwarder is still recognisable by the
    # exact socket path in its command line
    for pid in $(grep -lsaF "UNIX-CONNECT:$s/fwd.sock" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = socat ] && stop_pid "$pid"
    done
    stop_pidfile "$s/socat-ns.pid" socat
    stop_pidfile "$s/sshd.pid" sshd
    for ns in "$R1_NS" "$PEER_NS"; do
        stop_pidfile "$(router_dir "$ns")/run/bgpd.pid" bgpd
        stop_pidfile "$(router_dir "$ns")/run/zebra.pid" zebra
        if [[ " ${owned[*]} " == *" $ns "* ]]; then
            # whatever else still runs in OUR namespace: ssh sessions, vtysh, socat children
            for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid"; done
            ip netns del "$ns"
        fi
        rmdir "/var/run/frr/$ns" 2>/dev/null || true   # created by the daemons' -N pathspace
    done
    if getent passwd "$LAB_USER" >/dev/null && [ "$(getent passwd "$LAB_USER" | cut -d: -f5)" = "$TAG" ]; then
        userdel "$LAB_USER" 2>/dev/null || true
    fi
    rm -rf "$LAB_DIR"
    log "lab down"
}

cmd_status() {  # exit 0 = all lab processes alive, 1 = degraded, 3 = not up
    [ -e "$LAB_DIR/.peerbot-lab" ] || { echo "lab not up ($LAB_DIR)"; return 3; }
    local rc=0 f ns
    for ns in $(lab_namespaces); do
        [ -e "/var/run/netns/$ns" ] || { echo "netns $ns MISSING"; rc=1; }
    done
    if bird_on; then
        if [ -s "$(bird_dir)/bird.pid" ] && is_running "$(cat "$(bird_dir)/bird.pid")"; then
            echo "$BIRD_NS bird pid $(cat "$(bird_dir)/bird.pid") running"
        else
            echo "$BIRD_NS bird DEAD"; rc=1
        fi
    fi
    for f in "$LAB_DIR"/*/run/*.pid "$LAB_DIR"/*/ssh/*.pid; do
        [ -e "$f" ] || continue
        if is_running "$(cat "$f")"; then
            echo "$(basename "$(dirname "$(dirname "$f")")") $(basename "$f" .pid) pid $(cat "$f") running"
        else
            echo "$(basename "$(dirname "$(dirname "$f")")") $(basename "$f" .pid) pid $(cat "$f") DEAD"; rc=1
        fi
    done
    for ns in "$R1_NS" "$PEER_NS"; do
        echo "--- $ns"
        $(vtysh_cmd "$ns") -c 'show bgp summary' 2>&1 || rc=1
    done
    if bird_on; then echo "--- $BIRD_NS"; $(birdc_cmd) show protocols 2>&1 || rc=1; fi
    if obgp_on; then
        if [ -s "$(obgp_dir)/bgpd.pid" ] && is_running "$(cat "$(obgp_dir)/bgpd.pid")"; then
            echo "$OBGP_NS bgpd pid $(cat "$(obgp_dir)/bgpd.pid") running"
        else
            echo "$OBGP_NS bgpd DEAD"; rc=1
        fi
        echo "--- $OBGP_NS"; $(bgpctl_cmd) show 2>&1 || rc=1
    fi
    return $rc
}

case "${1:-}" in
    deps)   need_root
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                frr bird2 openbgpd openssh-server socat iproute2 util-linux ;;
    up)     cmd_up ;;
    down)   cmd_down ;;
    status) cmd_status ;;
    vtysh)  need_root; shift; ns=$(ns_for "${1:?usage: $0 vtysh r1|peer [-c CMD ...]}"); shift
            # shellcheck disable=SC2046
            exec $(vtysh_cmd "$ns") "$@" ;;
    birdc)  need_root; shift
            # shellcheck disable=SC2046
            exec $(birdc_cmd) "$@" ;;
    bgpctl) need_root; shift
            # shellcheck disable=SC2046
            exec $(bgpctl_cmd) "$@" ;;
    *)      echo "usage: $0 deps | up | down | status | vtysh r1|peer [-c CMD ...] | birdc [CMD ...] | bgpctl [CMD ...]" >&2; exit 2 ;;
esac
