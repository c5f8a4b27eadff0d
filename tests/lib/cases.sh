# Shell functions shared by the command rooms' end-to-end scripts
# (tests/{cli,train,eval,report}/*.sh source this file; it runs nothing).
# Each case works in its own directory: commands checked by expect_rc leave
# their stdout in out.txt and their stderr in err.txt there.

fail() { echo "FAIL: $*"; exit 1; }

expect_rc() { # expect_rc CODE cmd...: runs cmd, checks its exit code; stdout in out.txt, stderr in err.txt
  local want=$1; shift
  set +e; "$@" >out.txt 2>err.txt; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat out.txt err.txt; fail "exit $rc, expected $want: $*"; }
}

one_line_error() { # one_line_error TEXT: err.txt mentions TEXT and is one line
  grep -q -- "$1" err.txt || { cat err.txt; fail "error does not mention '$1'"; }
  [ "$(grep -c . err.txt)" = 1 ] || { cat err.txt; fail "error is not one line"; }
}
