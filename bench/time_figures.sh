# Figures from a GNU `time -v -o FILE` record, for the bench scripts (sourced):
#   wall_seconds FILE    elapsed wall time in seconds ("1:02.50" -> 62.50)
#   peak_rss_mb FILE     maximum resident set size in MB
wall_seconds() {
  awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$1"
}
peak_rss_mb() {
  awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1"
}
