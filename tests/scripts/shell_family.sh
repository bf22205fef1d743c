# Processes under dash and busybox sh: pipelines, redirections, $(...), && and ||, background
# jobs and wait (tests/test_processes_shell.py compares the output with the native run's).
# A file written by a child process is not seen by its parent yet (the RAM disk is each
# process's own copy until it is shared: docs/processes.md), so files here are written by the
# shell itself and read by its children.
echo start
x=$(echo inner)
echo "got $x"
y=$(echo nested $(echo deeper))
echo "$y"
true && echo and-ok
false && echo never
false || echo or-ok
true || echo never
echo piped | cat
echo a b c | tr a-z A-Z
printf 'c\nb\na\n' | sort
printf 'one\ntwo\nthree\n' | grep t | wc -l
echo saved > /tmp/f1
cat /tmp/f1
echo more >> /tmp/f1
cat < /tmp/f1
wc -l < /tmp/f1
cat /tmp/f1 | sort -r | head -n 1
echo to-stderr 1>&2
ls /nonexistent 2>/dev/null || echo ls-failed
for i in 1 2 3; do echo "loop $i"; done | sort -r
(exit 3); echo "status $?"
sh_status() { return $1; }
sh_status 4; echo "function status $?"
/bin/false; echo "external status $?"
sleep 0 & wait $!; echo "waited $?"
(exit 6) & wait $!; echo "background status $?"
(echo sub1; echo sub2) | cat
n=$(printf 'x\ny\nz\n' | wc -l); echo "lines $n"
case $(echo hello) in hel*) echo case-ok;; esac
if echo test | grep -q test; then echo if-ok; fi
i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo "counted $i"
echo "$(echo a)$(echo b)$(echo c)"
echo end
