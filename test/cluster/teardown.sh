#!/usr/bin/env bash
# Undoes everything a test cluster changed on this machine, from what its state file recorded as it went:
#   teardown.sh <cluster dir>
# processes (by recorded PID; container processes by the cluster's own cgroups; containerd shims by the cluster's
# own socket path), mounts under the cluster dir, the bridge and its veths, the iptables/ip6tables rules and chains
# that appeared during the run (kube-proxy's KUBE-*, kubelet's canaries, CNI-*, the harness's tagged rules), the
# sysctls (restored to the recorded values), the cgroups, the directory itself. Idempotent; every step is
# best-effort so one failure does not leave the rest behind. Prints what it removed.
set -uo pipefail

DIR="${1:?usage: teardown.sh <cluster dir>}"
STATE="$DIR/state.env"
[ -d "$DIR" ] || exit 0
log() { printf '[cluster teardown %s] %s\n' "$(date +%T)" "$*" >&2; }
log "tearing down $DIR"

BRIDGE="" CGROUP_NAME="" CONTAINERD_SOCKET="" IPTABLES_TAG=""
declare -A SYSCTL=()
CREATED=()
# state.env: KEY=VALUE lines and `sysctl NAME VALUE` lines, written by index.ts before each change
if [ -f "$STATE" ]; then
  while read -r a b c; do
    case "$a" in
      sysctl) [ -z "${SYSCTL[$b]+x}" ] && SYSCTL[$b]="$c" ;;
      BRIDGE=*) BRIDGE="${a#*=}" ;;
      CGROUP_NAME=*) CGROUP_NAME="${a#*=}" ;;
      CONTAINERD_SOCKET=*) CONTAINERD_SOCKET="${a#*=}" ;;
      IPTABLES_TAG=*) IPTABLES_TAG="${a#*=}" ;;
      CREATED=*) CREATED+=("${a#*=}") ;;
    esac
  done <"$STATE"
fi

cgroup_dirs() { # every cgroup directory of this cluster, deepest first
  [ -n "$CGROUP_NAME" ] || return 0
  local mnt
  for mnt in $(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts); do
    [ -d "$mnt/$CGROUP_NAME" ] && find "$mnt/$CGROUP_NAME" -depth -type d
  done
}

# 1. Processes: the daemons (each the group of its supervisor: `<pgid> <binary>` lines in pids), then whatever
# runs in the cluster's cgroups, then the shims on its socket.
if [ -f "$DIR/pids" ]; then
  while read -r pgid binary; do
    if kill -0 "$pgid" 2>/dev/null && { tr '\0' ' ' <"/proc/$pgid/cmdline"; } 2>/dev/null | grep -qF -- "$binary"; then
      kill -KILL -- "-$pgid" 2>/dev/null && log "killed $binary (process group $pgid)"
    fi
  done <"$DIR/pids"
fi
for _ in 1 2 3 4 5; do
  found=0
  for d in $(cgroup_dirs); do
    for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null && found=1
    done
  done
  if [ -n "$CONTAINERD_SOCKET" ]; then
    for p in /proc/[0-9]*; do
      if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "-address $CONTAINERD_SOCKET "; then
        kill -KILL "${p#/proc/}" 2>/dev/null && found=1
      fi
    done
  fi
  [ "$found" = 0 ] && break
  sleep 0.5
done

# 2. Mounts under the cluster dir and the paths this run created (pod volumes, rootfs overlays, netns, shm),
# deepest first.
for _ in 1 2 3; do
  mounts="$(for d in "$DIR" "${CREATED[@]}"; do awk -v d="$d/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts; done | sort -r)"
  [ -z "$mounts" ] && break
  while read -r m; do umount -l "$m" 2>/dev/null || umount -f "$m" 2>/dev/null; done <<<"$mounts"
done

# 3. Network: the veths on the bridge (their pod ends go with them), the bridge.
if [ -n "$BRIDGE" ] && ip link show "$BRIDGE" >/dev/null 2>&1; then
  for veth in $(ip -o link show master "$BRIDGE" | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
    ip link delete "$veth" 2>/dev/null
  done
  ip link delete "$BRIDGE" && log "deleted bridge $BRIDGE"
fi

# 4. Firewall: rules tagged by the harness, then the chains that were not there before the run (their jump
# rules from the built-in chains first).
for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  before="$DIR/$ipt-chains.before"
  for table in filter nat mangle raw; do
    "$ipt" -t "$table" -S >/dev/null 2>&1 || continue
    new_chains="$("$ipt" -t "$table" -S | awk '$1 == "-N" { print $2 }' | while read -r c; do
      if [ ! -f "$before" ] || ! grep -qx "$table $c" "$before"; then
        case "$c" in KUBE-* | CNI-* | SY-*) echo "$c" ;; esac
      fi
    done)"
    # rules that are ours: tagged, or jumping to a chain of ours
    "$ipt" -t "$table" -S | while read -r rule; do
      [ "${rule%% *}" = "-A" ] || continue
      ours=0
      [ -n "$IPTABLES_TAG" ] && [[ "$rule" == *"$IPTABLES_TAG"* ]] && ours=1
      target="$(sed -n 's/.* -j \([^ ]*\).*/\1/p' <<<"$rule")"
      [ -n "$target" ] && grep -qx -- "$target" <<<"$new_chains" && ours=1
      [ "$ours" = 1 ] && eval "\"$ipt\" -t \"$table\" -D ${rule#-A }" 2>/dev/null
    done
    for c in $new_chains; do "$ipt" -t "$table" -F "$c" 2>/dev/null; done
    for c in $new_chains; do "$ipt" -t "$table" -X "$c" 2>/dev/null; done
    [ -n "$new_chains" ] && log "$ipt -t $table: removed $(echo $new_chains | wc -w) chains"
  done
done

# 5. Sysctls back to what they were.
for name in "${!SYSCTL[@]}"; do
  path="/proc/sys/${name//.//}"
  [ -w "$path" ] || continue
  if [ "$(cat "$path")" != "${SYSCTL[$name]}" ]; then
    echo "${SYSCTL[$name]}" >"$path" && log "restored $name=${SYSCTL[$name]}"
  fi
done

# 6. Cgroups (empty now), deepest first.
for _ in 1 2 3; do
  left=0
  for d in $(cgroup_dirs); do rmdir "$d" 2>/dev/null || left=1; done
  [ "$left" = 0 ] && break
  sleep 0.5
done

# 7. What this run created outside its directory (kubelet and containerd hardcode a few paths), the directory.
for path in "${CREATED[@]}"; do [ -e "$path" ] && rm -rf "$path" && log "removed $path"; done
rm -rf "$DIR" 2>/dev/null || log "could not remove $DIR entirely"
log "done"
exit 0
