# The assertions the CLI test scripts share (sourced): each counts into $pass / $fail and prints
# what it expected and got on a failure. A script ends with `[[ $fail -eq 0 ]]`.
pass=0 fail=0
check() {  # check NAME EXPECTED_SUBSTRING ACTUAL
  if [[ "$3" == *"$2"* ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL %s: expected to contain %q, got:\n%s\n' "$1" "$2" "$3"
  fi
}
check_not() {  # check_not NAME UNEXPECTED_SUBSTRING ACTUAL
  if [[ "$3" != *"$2"* ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL %s: expected not to contain %q, got:\n%s\n' "$1" "$2" "$3"
  fi
}
check_ge() {  # check_ge NAME VALUE BOUND: VALUE is a number >= BOUND
  if [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v v="$2" -v b="$3" 'BEGIN { exit !(v >= b) }'; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL %s: expected a number >= %s, got %q\n' "$1" "$3" "$2"
  fi
}

serve_port() {  # serve_port LOG PID: waits (60 s at most) for `ptune serve` PID to log that it
  # listens, and prints its port (nothing if it exited first)
  for _ in $(seq 600); do
    grep -q "listening on" "$1" && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  grep -o '127.0.0.1:[0-9]*' "$1" | head -1 | cut -d: -f2
}
