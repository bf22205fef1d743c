# Run by /bin/sh inside the picoprocess (and natively, given a directory): copies the project
# onto the RAM disk, builds it with make and gcc, and runs what it built.
set -e
D=${1:-/tmp}/proj
rm -rf "$D"
cp -r /src "$D" 2>/dev/null || cp -r "$(dirname "$0")/src" "$D"
cd "$D"
make
./hello
make
echo "built: $(ls hello *.o | tr '\n' ' ')"
