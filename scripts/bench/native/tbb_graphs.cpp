// tbb_graphs.cpp — the oneTBB side of the native-runtimes benchmark (native.lua): the
// graphs of lask_graphs.c as a tbb::flow::graph of continue_nodes, same output line.
//
//   tbb_graphs SHAPE N WORKERS REPS
//
// Every node adds two values into its own slot of a vector (the fan-in's last sums all
// slots). A run puts a message into every source node and waits for the graph.
// "named" has no equivalent in oneTBB (nodes have no names): it repeats the build.
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using node_t = tbb::flow::continue_node<tbb::flow::continue_msg>;
using msg = tbb::flow::continue_msg;

static double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct built {
  std::vector<std::unique_ptr<node_t>> nodes;
  std::vector<size_t> sources;
  size_t root = 0;
};

static void build(tbb::flow::graph &g, const std::string &shape, size_t n, std::vector<long long> &v,
                  built &out) {
  v.assign(n, 0);
  long long *x = v.data();
  auto &t = out.nodes;
  t.resize(n);
  auto make = [&](size_t i, auto body) {
    t[i] = std::make_unique<node_t>(g, [body](const msg &) { body(); });
  };
  if (shape == "chain") {
    make(0, [x] { x[0] = 0 + 1; });
    out.sources.push_back(0);
    for (size_t i = 1; i < n; i++) {
      make(i, [x, i] { x[i] = x[i - 1] + 1; });
      tbb::flow::make_edge(*t[i - 1], *t[i]);
    }
    out.root = n - 1;
    return;
  }
  if (shape == "fanin") {
    make(n - 1, [x, n] {
      long long s = 0;
      for (size_t i = 0; i + 1 < n; i++) s += x[i];
      x[n - 1] = s;
    });
    for (size_t i = 0; i + 1 < n; i++) {
      make(i, [x, i] { x[i] = (long long)i + 1; });
      tbb::flow::make_edge(*t[i], *t[n - 1]);
      out.sources.push_back(i);
    }
    out.root = n - 1;
    return;
  }
  size_t leaves = n / 2, next = leaves, m = leaves;
  std::vector<size_t> level(leaves);
  for (size_t i = 0; i < leaves; i++) {
    make(i, [x, i] { x[i] = (long long)i + 1; });
    out.sources.push_back(i);
    level[i] = i;
  }
  while (m > 1) {
    size_t k = 0;
    for (size_t i = 0; i + 1 < m; i += 2) {
      size_t a = level[i], b = level[i + 1], c = next++;
      make(c, [x, a, b, c] { x[c] = x[a] + x[b]; });
      tbb::flow::make_edge(*t[a], *t[c]);
      tbb::flow::make_edge(*t[b], *t[c]);
      level[k++] = c;
    }
    if (m % 2) level[k++] = level[m - 1];
    m = k;
  }
  t.resize(next);
  out.root = level[0];
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
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, (size_t)workers);
  std::vector<long long> v;
  // builds in turns, 2 x REPS (every other one is "named": the same build), each graph
  // destroyed (untimed) before the next, as lask_graphs.c does; the medians are taken
  std::vector<double> named_t, built_t;
  auto g = std::make_unique<tbb::flow::graph>();
  auto b = std::make_unique<built>();
  for (int r = 0; r < 2 * reps; r++) {
    b.reset(), g.reset(); // the nodes before their graph
    g = std::make_unique<tbb::flow::graph>(), b = std::make_unique<built>();
    double t0 = now();
    build(*g, shape, n, v, *b);
    (r % 2 ? built_t : named_t).push_back(now() - t0);
  }
  std::sort(named_t.begin(), named_t.end());
  std::sort(built_t.begin(), built_t.end());
  double named_s = named_t[reps / 2], built_s = built_t[reps / 2], t0;
  std::vector<double> times;
  for (int r = 0; r < reps; r++) {
    t0 = now();
    for (size_t s : b->sources) b->nodes[s]->try_put(msg());
    g->wait_for_all();
    times.push_back(now() - t0);
  }
  std::sort(times.begin(), times.end());
  std::printf("RESULT build=%.1f named=%.1f run=%.1f value=%lld\n", 1e9 * built_s / n, 1e9 * named_s / n,
              1e9 * times[reps / 2] / n, v[b->root]);
  return 0;
}
