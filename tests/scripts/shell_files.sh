# Files shared by a shell's processes (docs/processes.md): what a background job, a subshell or
# a child shell writes under $1, the others read.  Run natively with a fresh directory, sealed
# with /tmp (a RAM disk); the outputs must be byte-identical.
D=${1:-/tmp}/shf
rm -rf "$D"; mkdir -p "$D"
echo background > "$D/f" &
wait
cat "$D/f"
(echo one; echo two) > "$D/g" & wait $!; cat "$D/g"
echo a >> "$D/h" & echo b >> "$D/h" & wait; sort "$D/h"
sh -c 'echo from-child-shell > "$1/c"' sh "$D"; cat "$D/c"
mv "$D/c" "$D/c2" & wait; ls "$D"
rm "$D/g" & wait; ls "$D"
{ echo x; sleep 0; echo y; } > "$D/seq" & wait; wc -l < "$D/seq"
for i in 1 2 3 4 5; do echo "$i" >> "$D/loop" & done; wait; sort "$D/loop" | tr '\n' ' '; echo
cat "$D/f" | tr a-z A-Z > "$D/upper"; cat "$D/upper"
# (fd 5, not 3: 3 is the channel's number, which the VFS never hands out: docs/processes.md)
exec 5>"$D/fd5"; (echo via-fd5 >&5) & wait; echo parent-fd5 >&5; exec 5>&-; cat "$D/fd5"
(cd "$D" && echo in-subshell > rel); cat "$D/rel"
x=$(cat "$D/f"); echo "substituted $x"
test -e "$D/f" && echo exists
rm -r "$D" & wait; test -e "$D" || echo gone
