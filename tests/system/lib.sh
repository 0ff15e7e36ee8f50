# lib.sh: a Debian 12 system booted under systemd for tests/system/run
# (sourced, bash).
#
# sys_root       the cached root: a minimal Debian 12 made by mmdebstrap
#                from the mirror apt already uses, with systemd, influxdb,
#                nginx-light, curl and the package's dependencies (the
#                container has no network).  Cached in $SYS_CACHE
#                (/var/cache/qosd-test) under a key of its inputs; built
#                once, under a lock, then only read.
# sys_prepare    an overlay of the cached root for this run (the cache
#                stays clean), mounted on $SYS_MNT.
# sys_boot       boots it with systemd-nspawn -b --private-network in a
#                cgroup of this run, the host paths in SYS_BINDS mounted
#                read-only at the same paths; its PID 1 is $SYS_LEADER.
#                The container has its own root and /tmp, never the
#                host's.
# cin CMD...     runs CMD inside the container (nsenter into every
#                namespace of its PID 1), as root, with a clean environment.
# sys_teardown   powers the container off (SIGTERM to systemd-nspawn, which
#                asks its systemd to halt), then stops it by PID if needed,
#                unmounts the overlay and removes this run's cgroups.
set -u
: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${SYS_CACHE:=/var/cache/qosd-test}"
SYS_SUITE=bookworm
# Packages of the root besides the package's own dependencies: the init,
# the servers the test talks to, and what it reads them with.
SYS_PKGS="systemd systemd-sysv dbus influxdb nginx-light curl procps iproute2"
# Bump when the way the root is made changes.
SYS_ROOT_FORMAT=1

SYS_T=
SYS_MNT=
SYS_NSPAWN_PID=
SYS_LEADER=
SYS_CGROUPS=()
SYS_BINDS=()

sys_die() { echo "system: $*" >&2; exit 2; }

# sys_sources: the file of the Debian mirror apt uses here.
sys_sources() {
	local f
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		[ -s "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# sys_root EXTRA_PKGS: the path of a cached root with SYS_PKGS and
# EXTRA_PKGS installed; makes it when missing.
sys_root() {
	local extra=$1 src key dir tmp
	src=$(sys_sources) || sys_die "no Debian sources in /etc/apt"
	key=$( { echo "$SYS_ROOT_FORMAT $SYS_SUITE"; echo "$SYS_PKGS $extra";
		grep -v '^#' "$src"; } | sha256sum | cut -c1-16)
	dir="$SYS_CACHE/$SYS_SUITE-$key"
	mkdir -p "$SYS_CACHE"
	if [ ! -f "$dir/.complete" ]; then
		exec 8>"$SYS_CACHE/lock"
		flock 8
		if [ ! -f "$dir/.complete" ]; then
			echo "system: making the Debian 12 root (mmdebstrap, once): $dir" >&2
			tmp="$SYS_CACHE/.new-$key.$$"
			rm -rf "$tmp"
			# influxd sends no usage reports (the container has no
			# network anyway); the hostname names the container.
			mmdebstrap --variant=minbase --mode=root \
				--include="$(echo $SYS_PKGS $extra | tr ' ' ,)" \
				--skip=cleanup/apt/lists \
				--customize-hook='sed -i "s/^ *# *reporting-disabled *=.*/reporting-disabled = true/" "$1/etc/influxdb/influxdb.conf"' \
				--customize-hook='echo qosd-system >"$1/etc/hostname"' \
				"$SYS_SUITE" "$tmp" "$src" >"$SYS_CACHE/mmdebstrap-$key.log" 2>&1 ||
				{ tail -20 "$SYS_CACHE/mmdebstrap-$key.log" >&2; rm -rf "$tmp"; sys_die "mmdebstrap failed"; }
			touch "$tmp/.complete"
			rm -rf "$dir"
			mv "$tmp" "$dir"
		fi
		exec 8>&-
	fi
	echo "$dir"
}

# sys_prepare ROOT: an overlay of ROOT for this run, mounted on $SYS_MNT;
# files may be written into it before sys_boot.
sys_prepare() {
	local lower=$1
	SYS_T=$(mktemp -d "${TMPDIR:-/var/tmp}/qosd-system.XXXXXX")
	mkdir -p "$SYS_T/upper" "$SYS_T/work" "$SYS_T/root"
	mount -t overlay overlay \
		-o "lowerdir=$lower,upperdir=$SYS_T/upper,workdir=$SYS_T/work" \
		"$SYS_T/root" || sys_die "cannot mount an overlay of $lower"
	SYS_MNT="$SYS_T/root"
}

# sys_cgroup: a cgroup of this run in each hierarchy systemd-nspawn uses
# (the host has no systemd: without one, nspawn would put the container's
# cgroups at the root, shared with any other container).
sys_cgroup() {
	local h d
	for h in systemd unified; do
		[ -f "/sys/fs/cgroup/$h/cgroup.procs" ] || continue
		d="/sys/fs/cgroup/$h/qosd-system.$$"
		mkdir -p "$d" || sys_die "cannot make cgroup $d"
		SYS_CGROUPS+=("$d")
	done
}

# sys_boot NAME: boot the prepared root; waits until its systemd runs.
sys_boot() {
	local name=$1 c p i state binds=()
	sys_cgroup
	for p in "${SYS_BINDS[@]}"; do binds+=(--bind-ro="$p"); done
	(
		for c in "${SYS_CGROUPS[@]}"; do echo "$BASHPID" >"$c/cgroup.procs"; done
		# --register=no --keep-unit: there is no systemd or machined on
		# the host to register with.  nspawn's own system call filter
		# (systemd 252) lacks Landlock, which a host has: let the
		# container's services use it as they would on a host.
		exec systemd-nspawn -D "$SYS_MNT" -b --private-network \
			--register=no --keep-unit --console=passive -M "$name" \
			--system-call-filter="landlock_create_ruleset landlock_add_rule landlock_restrict_self" \
			"${binds[@]}" 2>&1
	) >"$SYS_T/nspawn.log" &
	SYS_NSPAWN_PID=$!
	for i in $(seq 300); do
		for p in $(cat "/proc/$SYS_NSPAWN_PID/task/"*/children 2>/dev/null); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && SYS_LEADER=$p
		done
		[ -n "$SYS_LEADER" ] && break
		kill -0 "$SYS_NSPAWN_PID" 2>/dev/null ||
			sys_die "systemd-nspawn ended: $(tail -5 "$SYS_T/nspawn.log")"
		sleep 0.1
	done
	[ -n "$SYS_LEADER" ] || sys_die "no systemd in the container: $(tail -5 "$SYS_T/nspawn.log")"
	for i in $(seq 600); do
		state=$(cin systemctl is-system-running 2>/dev/null)
		case "$state" in running|degraded) return 0 ;; esac
		sleep 0.1
	done
	sys_die "the container did not boot (state $state): $(tail -5 "$SYS_T/nspawn.log")"
}

cin() {
	nsenter -t "$SYS_LEADER" -a -- /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 HOME=/root TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

sys_teardown() {
	local i c
	if [ -n "$SYS_NSPAWN_PID" ] && kill -0 "$SYS_NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$SYS_NSPAWN_PID"
		for i in $(seq 300); do
			kill -0 "$SYS_NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$SYS_NSPAWN_PID" 2>/dev/null; then
			echo "system: the container did not halt in 30 s; killing it" >&2
			[ -n "$SYS_LEADER" ] && kill -KILL "$SYS_LEADER" 2>/dev/null
			kill -KILL "$SYS_NSPAWN_PID" 2>/dev/null
		fi
		wait "$SYS_NSPAWN_PID" 2>/dev/null
	fi
	if [ -n "$SYS_MNT" ] && mountpoint -q "$SYS_MNT"; then
		umount "$SYS_MNT" || umount -l "$SYS_MNT"
	fi
	for c in "${SYS_CGROUPS[@]}"; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	if [ -n "$SYS_T" ] && [ -z "${KEEP_TMP:-}" ]; then
		rm -rf "$SYS_T"
	fi
}
