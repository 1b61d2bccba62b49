/**
 * The shell scripts the session layer runs on a host (shell-session.ts): the wrapper, watcher
 * and shell of the long-lived session, the kill sweep, and stat. Each is passed as one argv word
 * to `sh -c` and takes its values as positional arguments, never spliced into its text.
 */

/**
 * `pstat PID` sets st to the state and q to the parent of PID, from /proc/PID/stat (the name
 * there may hold spaces and parentheses: everything up to the last ") " is skipped).
 */
export const PSTAT_FN = `
pstat() { st=; q=; l=; read -r l < "/proc/$1/stat" 2>/dev/null || return 1; l=\${l##*) }; st=\${l%% *}; l=\${l#* }; q=\${l%% *}; }
`;

/** Children of $1: pgrep, or /proc where busybox lacks it. Brings pstat along. */
const KIDS_FN = `${PSTAT_FN}
kids() { if command -v pgrep >/dev/null 2>&1; then pgrep -P "$1"; else
  for d in /proc/[0-9]*; do pstat "\${d#/proc/}" && [ "$q" = "$1" ] && echo "\${d#/proc/}"; done; fi; }
`;

/**
 * $1 pid, $2 grace in tenths of a second, $3 `kids` to stop the children of $1 (a session
 * shell's command) rather than $1 itself. Freezes the tree first (a stopped process cannot
 * fork, so no child escapes the sweep and keeps writing into the session's stdout), then
 * TERM + CONT, then KILL after the grace. It says when it starts (the session takes that as the
 * host answering), and neither a TERM of its own session nor a reader gone away (PIPE) stops
 * it half way, which would leave a frozen or TERM-proof tree behind.
 */
export const KILL_SCRIPT = `${KIDS_FN}
tree() { for c in $(kids "$1"); do tree "$c"; done; echo "$1"; }
# A dead child that nobody has reaped yet (no init in a container) still answers kill -0.
zombie() { pstat "$1" && [ "$st" = Z ]; }
trap : TERM INT HUP; trap '' PIPE
echo stopping
if [ "$3" = kids ]; then
  # The shell announces a command just before starting it: a stop that came first waits a moment.
  roots=$(kids "$1"); i=0
  while [ -z "$roots" ] && [ "$i" -lt 5 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); roots=$(kids "$1"); done
else
  roots=$1
fi
[ -n "$roots" ] && kill -STOP $roots 2>/dev/null || exit 0
n=0
while :; do
  now=$(for r in $roots; do tree "$r"; done); kill -STOP $now 2>/dev/null
  c=$(echo $now | wc -w); [ "$c" = "$n" ] && break; n=$c
done
all=$now
kill -TERM $all 2>/dev/null; kill -CONT $all 2>/dev/null
i=0
while [ "$i" -lt "$2" ]; do
  alive=; for x in $all; do kill -0 "$x" 2>/dev/null && ! zombie "$x" && alive=1; done
  [ -z "$alive" ] && exit 0
  sleep 0.1 2>/dev/null || sleep 1
  i=$((i+1))
done
kill -KILL $all 2>/dev/null
exit 0
`;

/**
 * The session's shell runs under this wrapper ($1 SESSION_POLL, $2 SESSION_SHELL, $3 KILL_SCRIPT,
 * $4 SESSION_WATCH, $5 how many of its ancestors are the transport's: Transport.sessionAncestors).
 * When the session ends underneath a running command (the connection died, sshd ended the
 * session, the controller was killed), nothing tells the host without a pty, and the command
 * would run on with nobody to report to. So a watcher stops the shell and everything under it,
 * as a terminal hangup would. Processes a command left running on purpose (`nohup … &`) are no
 * longer under the shell and are left alone. The wrapper and the watcher outlive a TERM sent to
 * the whole session (their trap), so the clean-up still runs.
 *
 * Two ways to see the end. Where the transport's own processes are ancestors of the wrapper (ssh:
 * sshd's two processes for the connection; local: the controller), SESSION_POLL checks once a
 * second that they are still there, and the shell, the wrapper's child, reads the session's stdin
 * itself. Otherwise (docker exec: its parent is outside the container), commands reach the shell
 * through SESSION_WATCH's `dd`, which sees the end of stdin even while a command runs; that relay
 * wakes one more process for every command, which costs a busy host several milliseconds per
 * step, so it is the fallback. Every process started here costs a host CPU time (a
 * virtualised one several milliseconds), so the poll path starts two: the shell, and the watcher
 * as a subshell (a fork without an exec) with its one `tail`.
 */
export const SESSION_WRAPPER = `trap : TERM INT HUP
${PSTAT_FN}
a=; p=$$; n=0
while [ "$n" -lt "$5" ] && pstat "$p" && [ "$q" -gt 1 ] 2>/dev/null; do a="$a $p:$q"; p=$q; n=$((n+1)); done
if [ -n "$a" ]; then
  # The watcher is a subshell: a fork, without the exec of one more sh.
  ( s=$1 k=$3; set -- $$ "$k" "$a"; eval "$s" ) </dev/null >/dev/null 2>&1 &
  w=$!
  sh; r=$?
  # USR1: the watcher traps TERM, not this, and takes its tail with it; no process scan on the
  # way out (a close is on the path of every run's end).
  kill -USR1 "$w" 2>/dev/null
  exit $r
else
  command -v dd >/dev/null 2>&1 || exec sh
  sh -c "$4" watch $$ "$3" | sh -c "$2" shell $$
fi`;

/**
 * $1 the wrapper's pid, $2 KILL_SCRIPT, $3 the ancestors as "pid:parent ...". Run by `eval` in a
 * subshell of the wrapper, where $$ is the wrapper's pid: its own comes from /proc, which this
 * path has (the ancestors were read there). The shell is the wrapper's other child: stopped with
 * everything under it.
 */
export const SESSION_POLL = `trap : TERM INT HUP
read -r me < /proc/self/stat; me=\${me%% *}
${KIDS_FN}
chain=$3
alive() { for link in $chain; do pstat "\${link%%:*}" && [ "$q" = "\${link#*:}" ] || return 1; done; }
# A sleep every second is a process every second, for every session: where coreutils' tail can
# wait on a pid, one process waits on the topmost ancestor instead. The loop is the check
# afterwards, and the fallback (busybox's tail exits at once).
tail -s 1 --pid="\${chain##*:}" -f /dev/null </dev/null >/dev/null 2>&1 & t=$!
trap 'kill "$t" 2>/dev/null; exit 0' USR1
wait "$t"
while alive; do sleep 1; done
{ for c in $(kids "$1"); do [ "$c" = "$me" ] || (sh -c "$2" stop "$c" 20 &); done; } </dev/null >/dev/null 2>&1
`;

/**
 * $1 the wrapper's pid, $2 KILL_SCRIPT. Its stdout is the shell's stdin: nothing else may go
 * there. `dd`, not `cat`: busybox's cat copies a socket (the local transport's stdin) with
 * sendfile, which holds the data back until the end. The shell is the child of SESSION_SHELL,
 * the wrapper's other child.
 */
export const SESSION_WATCH = `trap : TERM INT HUP
dd bs=65536 2>/dev/null
{ ${KIDS_FN}
  for c in $(kids "$1"); do [ "$c" = "$$" ] || for s in $(kids "$c"); do (sh -c "$2" stop "$s" 20 &); done; done; } </dev/null >/dev/null 2>&1
`;

/**
 * $1 the wrapper's pid. The session shell under SESSION_WATCH's relay; when it dies, the
 * watcher's dd is ended so the wrapper exits too.
 */
export const SESSION_SHELL = `sh; r=$?
{ ${KIDS_FN}
  for w in $(kids "$1"); do [ "$w" = "$$" ] || for c in $(kids "$w"); do kill -TERM "$c"; done; done; } </dev/null >/dev/null 2>&1
exit $r
`;

/**
 * `__cs_x NAME` sets __cs_c to the program NAME in PATH, or to nothing, as exec would find it
 * (never a shell builtin), with shell builtins alone: no process. Defined in the session shell
 * by its probe; a command line uses it to start a program as a simple command (shell-session.ts).
 */
export const LOOKUP_FN = `__cs_x() { __cs_c=; __cs_p=$PATH:; while [ -n "$__cs_p" ]; do __cs_d=\${__cs_p%%:*}; __cs_p=\${__cs_p#*:}; \
__cs_d=\${__cs_d:-.}/$1; if [ -f "$__cs_d" ] && [ -x "$__cs_d" ]; then __cs_c=$__cs_d; return 0; fi; done; }`;

/**
 * `sin` prints the sha1 of stdin (digest first), `sha FILE` leaves the digest of FILE in $h;
 * with whichever of sha1sum, busybox or openssl the host has.
 */
export const SHA1_FN = `
sin() { if command -v sha1sum >/dev/null 2>&1; then sha1sum
  elif command -v busybox >/dev/null 2>&1; then busybox sha1sum
  else openssl sha1 -r; fi; }
sha() { h=$(sin < "$1") || return 1; h=\${h%% *}; }
`;

/** $1 path, $2 non-empty to compute sha1. Prints `STAT exists type size mode sha1`. */
export const STAT_SCRIPT = `${SHA1_FN}
p=$1
# A relative path named like an option ("-x") must not reach stat as one.
case $p in -*) p=./$p;; esac
if [ ! -e "$p" ] && { [ -n "$3" ] || [ ! -L "$p" ]; }; then
  d=\${p%/*}; [ "$d" != "$p" ] && [ -n "$d" ] && [ -d "$d" ] && [ ! -x "$d" ] && { echo "$p: Permission denied" >&2; exit 1; }
  echo "STAT 0 - - - -"; exit 0; fi
if [ -L "$p" ] && [ -z "$3" ]; then t=symlink; elif [ -d "$p" ]; then t=directory; elif [ -f "$p" ]; then t=file; else t=other; fi
s=-; h=-
if [ -n "$3" ]; then m=$(stat -L -c %a "$p" 2>/dev/null) || m=-; else m=$(stat -c %a "$p" 2>/dev/null) || m=-; fi
if [ "$t" = file ]; then
  s=$(wc -c < "$p") || exit 1
  s=$(echo $s)
  if [ -n "$2" ]; then sha "$p" || exit 1; fi
fi
echo "STAT 1 $t $s $m $h"
`;
