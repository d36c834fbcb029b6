// taskflow_graphs.cpp — the Taskflow side of the native-runtimes benchmark
// (native.lua): the graphs of lask_graphs.c, as a tf::Taskflow, same output line.
//
//   taskflow_graphs SHAPE N WORKERS REPS
//
// Every task adds two values into its own slot of a vector (the fan-in's last sums
// all slots), so a task reads its dependencies' values as lask's do. "named" is the
// build with every task given a name (Taskflow's task.name(); the names "t-<i>" are
// formatted before the clock starts, as lask_graphs.c's are).
#include <taskflow/taskflow.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

static double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Builds SHAPE with n tasks into tf over the value slots v; returns the root's slot.
static size_t build(tf::Taskflow &tf, const std::string &shape, size_t n,
                    const std::vector<std::string> *names, std::vector<long long> &v) {
  v.assign(n, 0);
  long long *x = v.data();
  std::vector<tf::Task> t(n);
  auto name = [&](size_t i) {
    if (names) t[i].name((*names)[i]);
  };
  if (shape == "chain") {
    t[0] = tf.emplace([x] { x[0] = 0 + 1; });
    name(0);
    for (size_t i = 1; i < n; i++) {
      t[i] = tf.emplace([x, i] { x[i] = x[i - 1] + 1; });
      name(i);
      t[i - 1].precede(t[i]);
    }
    return n - 1;
  }
  if (shape == "fanin") {
    t[n - 1] = tf.emplace([x, n] {
      long long s = 0;
      for (size_t i = 0; i + 1 < n; i++) s += x[i];
      x[n - 1] = s;
    });
    name(n - 1);
    for (size_t i = 0; i + 1 < n; i++) {
      t[i] = tf.emplace([x, i] { x[i] = (long long)i + 1; });
      name(i);
      t[i].precede(t[n - 1]);
    }
    return n - 1;
  }
  // tree: n/2 leaves, then each level pairs the one below (an odd one out moves up)
  size_t leaves = n / 2, next = leaves;
  std::vector<size_t> level(leaves);
  for (size_t i = 0; i < leaves; i++) {
    t[i] = tf.emplace([x, i] { x[i] = (long long)i + 1; });
    name(i);
    level[i] = i;
  }
  size_t m = leaves;
  while (m > 1) {
    size_t k = 0;
    for (size_t i = 0; i + 1 < m; i += 2) {
      size_t a = level[i], b = level[i + 1], c = next++;
      t[c] = tf.emplace([x, a, b, c] { x[c] = x[a] + x[b]; });
      name(c);
      t[a].precede(t[c]);
      t[b].precede(t[c]);
      level[k++] = c;
    }
    if (m % 2) level[k++] = level[m - 1];
    m = k;
  }
  return level[0];
}

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s chain|fanin|tree N WORKERS REPS\n", argv[0]);
    return 2;
  }
  std::string shape = argv[1];
  size_t n = std::strtoul(argv[2], nullptr, 10);
  int workers = std::atoi(argv[3]), reps = std::atoi(argv[4]);
  if (n < 4 || workers < 1 || reps < 1) return 2;
  tf::Executor executor(workers);
  std::vector<long long> v;
  std::vector<std::string> names(n);
  for (size_t i = 0; i < n; i++) names[i] = "t-" + std::to_string(i);
  // builds named and unnamed in turns, REPS of each, each graph destroyed (untimed)
  // before the next, as lask_graphs.c does; the medians are taken
  size_t root = 0;
  std::vector<double> named_t, built_t;
  auto tf = std::make_unique<tf::Taskflow>();
  for (int r = 0; r < reps; r++)
    for (int named = 1; named >= 0; named--) {
      tf = std::make_unique<tf::Taskflow>();
      double t0 = now();
      root = build(*tf, shape, n, named ? &names : nullptr, v);
      (named ? named_t : built_t).push_back(now() - t0);
    }
  std::sort(named_t.begin(), named_t.end());
  std::sort(built_t.begin(), built_t.end());
  double named_s = named_t[reps / 2], built = built_t[reps / 2], t0;
  std::vector<double> times;
  for (int r = 0; r < reps; r++) {
    t0 = now();
    executor.run(*tf).wait();
    times.push_back(now() - t0);
  }
  std::sort(times.begin(), times.end());
  std::printf("RESULT build=%.1f named=%.1f run=%.1f value=%lld\n", 1e9 * built / n, 1e9 * named_s / n,
              1e9 * times[reps / 2] / n, v[root]);
  return 0;
}
