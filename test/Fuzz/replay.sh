#!/bin/sh
# Replays every regression input of the fuzzer (inputs/) through nnc and
# checks that each stage exits with 0 (accepted) or 1 (diagnosed), never
# with a signal, a sanitizer abort or a hang. Used by regressions.test.
#
#   sh replay.sh NNC INPUT-DIR
#
# Prints one line per failure and a final "replayed N inputs, M crashed".
nnc=$1
dir=$2
# In a sanitizer build a report must not pass for a diagnosis: sanitizers
# exit with 1 by default, the status of a user error.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=99"
export ASAN_OPTIONS UBSAN_OPTIONS
n=0
bad=0
for f in "$dir"/*; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  # tokens: the lexer alone; grad and opt: parse, sema, autodiff, the
  # optimizer update and the graph passes, which is what the fuzzer
  # exercises; llvm: code generation too.
  for stage in tokens grad opt llvm; do
    timeout 120 "$nnc" "$f" --emit=$stage >/dev/null 2>&1
    rc=$?
    if [ $rc -eq 124 ]; then
      echo "CRASH: $(basename "$f") --emit=$stage timed out"
      bad=$((bad + 1))
    elif [ $rc -gt 1 ]; then
      echo "CRASH: $(basename "$f") --emit=$stage exited with $rc"
      bad=$((bad + 1))
    fi
  done
done
echo "replayed $n inputs, $bad crashed"
[ $n -gt 0 ] && [ $bad -eq 0 ]
