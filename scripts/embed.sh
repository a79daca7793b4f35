#!/bin/sh
# embed.sh FILE NAME OUTDIR - FILE as a C array, so the binary needs no file at run time.
#
# Writes OUTDIR/NAME.c, defining "const char NAME[]" (FILE's bytes and a closing NUL) and
# "const size_t NAME_len" (the length without the NUL), and OUTDIR/NAME.h declaring both. The
# Makefile's one rule for sql/schema.sql calls it for every flavour, the fuzz build included.
# Both files are written under temporary names and renamed, so an interrupted run leaves no
# half file that make would take as up to date.
set -eu
if [ $# != 3 ]; then
    echo "usage: embed.sh FILE NAME OUTDIR" >&2
    exit 2
fi
src=$1 name=$2 out=$3
if [ ! -r "$src" ]; then
    echo "embed.sh: cannot read $src" >&2
    exit 1
fi
guard=PLAINSIGHT_$(echo "$name" | tr 'a-z' 'A-Z')_H
mkdir -p "$out"

{
    echo "/* $name.h - generated from $src by scripts/embed.sh: do not edit. */"
    echo "#ifndef $guard"
    echo "#define $guard"
    echo
    echo '#include <stddef.h>'
    echo
    echo "/* The bytes of $src followed by a NUL; ${name}_len does not count the NUL. */"
    echo "extern const char $name[];"
    echo "extern const size_t ${name}_len;"
    echo
    echo "#endif"
} >"$out/$name.h.tmp"

{
    echo "/* $name.c - generated from $src by scripts/embed.sh: do not edit. */"
    echo "#include \"$name.h\""
    echo
    echo "const char $name[] = {"
    od -An -v -tx1 "$src" | sed -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'
    echo '0x00 };'
    echo "const size_t ${name}_len = sizeof($name) - 1;"
} >"$out/$name.c.tmp"

mv "$out/$name.h.tmp" "$out/$name.h"
mv "$out/$name.c.tmp" "$out/$name.c"
