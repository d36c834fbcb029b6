--- Linear algebra on chunked arrays: TSQR, QR, SVD, randomized SVD, LU, solve, Cholesky, inverse, least squares, norms.
-- As graphs of the LAPACK kernels of engine/array/linalg.c, all lazy (Dask's
-- `dask.array.linalg`). Conventionally `local la = require "lask.array.linalg"`.
-- Tall-and-skinny arrays (one column of blocks) go through TSQR; the square
-- factorisations (lu, solve, cholesky, inv) compute in one block.
--
-- TSQR (direct TSQR, Benson, Gleich & Demmel 2013) of a tall matrix with one column
-- of blocks:
--   stage 1   each block is factored: qr_factor keeps Q implicit (reflectors; the
--             kernel cuts a tall block into panels of cache-friendly height, as a
--             tall block's QR is memory-bound otherwise), item(_, 1) is its R; a
--             very tall block is factored in pieces, tasks of their own, so that
--             Ctrl-C need not wait for its whole QR (piece_rows);
--   stage 2   the R factors are stacked (vstack) and factored again (qr_factor, which
--             merges the triangles two by two), in groups of at most GROUP when they
--             are many, and in two groups from 8 (both workers merge): a reduction
--             tree that recurses; each group's Q is formed by
--             its own task (qr_apply), so that it runs beside the SVD of R;
--   Q         each panel's Q times its slice of the stages above (qr_apply on the
--             implicit factor: Q is formed once, already multiplied).
-- Across P ranks (a script that required lask.mpi, P > 1) stage 2 follows the
-- ranks instead: each rank's blocks' R factors in one group, then a binary tree of
-- the groups (tsqr_tasks says how; README "TSQR across ranks").
-- The SVD multiplies those slices by U of the small R's SVD (svd, whose signs are
-- deterministic), so U costs no more than Q. From 128 columns the SVD takes
-- CholeskyQR2 instead (svd_cholqr, engine/array/cholqr.h), with TSQR's factors as
-- its fallback in the same graph. Everything is lazy; the names follow
-- the seed talk's graphs (tsqr-…-qr-st1, -r-st1, -r-st1-stacked, -qr-st2, -svd-st2).
--
-- Cores: a big LAPACK or BLAS call of a task that runs alone in a threaded get (the
-- SVD of TSQR's R, the last of an odd number of blocks, a one-block solve) runs on
-- OpenBLAS threads on the cores of the workers asleep meanwhile, and back on one
-- thread as soon as one wakes for work; `LASK_BLAS_BORROW=0` in the environment
-- turns that off (the README's "BLAS and LAPACK on the idle cores").
--
-- dtypes: float32 input gives float32 results, as Dask's; the kernels compute in
-- float64 (LAPACK's d-routines) and the results are rounded back (keep_float32
-- says why). Integers and booleans give float64, as numpy's linalg.
-- @module lask.array.linalg
-- @alias la
-- @usage local x = da.random.random({100, 5}, {chunks = {25, 5}, seed = 0})
-- local q, r = la.tsqr(x)
-- assert(((q:dot(r) - x):max():compute():item()) < 1e-12)
local core = require "lask.array.core"
local lcore = require "lask.core"

local fmt, ceil, max, min = string.format, math.ceil, math.max, math.min
local lkey = lcore.key

local la = {}

local GROUP = 64   -- R factors stacked together at most, per stage-2 task

local function K(name) return core.kernel(name) end

-- The results of a factorisation of x, in float32 when x is float32 (as numpy and
-- Dask keep it). The kernels compute in float64 (LAPACK's d-routines: one code path,
-- and TSQR's merges and the randomized SVD's power steps lose less); the float32
-- results are those rounded, so they agree with an s-routine's to float32's
-- precision. Integers and booleans give float64, as numpy's linalg does.
local tsqr64, svd64, svd_compressed64 -- the float64 graphs (defined below)

local function keep_float32(x, ...)
  if x.dtype ~= "float32" then return ... end
  local out = table.pack(...)
  for i = 1, out.n do
    if core.is_array(out[i]) and out[i].dtype == "float64" then out[i] = out[i]:astype("float32") end
  end
  return table.unpack(out, 1, out.n)
end

local function array_arg(x, what, level)
  if core.is_array(x) then return x end
  if type(x) == "table" or type(x) == "userdata" then
    return require("lask.array.creation").from_array(x, nil, level + 1)
  end
  error(fmt("lask.array.linalg: %s: expected an array, got %s", what, type(x)), level + 1)
end

local function matrix_arg(x, what, level)
  x = array_arg(x, what, level + 1)
  if x.ndim ~= 2 then
    error(fmt("lask.array.linalg: %s: expected a 2-D array, got %d-D %s", what, x.ndim, core.tuple(x.shape)), level + 1)
  end
  return x
end

local function square_arg(x, what, level)
  x = matrix_arg(x, what, level + 1)
  if x.shape[1] ~= x.shape[2] then
    error(fmt("lask.array.linalg: %s: expected a square matrix, got shape %s", what, core.tuple(x.shape)), level + 1)
  end
  return x
end

-- A copy of the tasks in the graphs given, to add an output's own tasks to the
-- shared ones (each output's graph holds only what it needs: s.dask shows no U
-- blocks, nor the second stage's Q).
local function with(...)
  local t = {}
  for _, dsk in ipairs { ... } do
    for k, v in pairs(dsk) do t[k] = v end
  end
  return t
end

-- A generic layer whose tasks are dsk.
local function layer(name, dsk)
  return { name = name, kind = "generic", build = function() return dsk end }
end

-- ------------------------------------------------------------------------------
-- TSQR

-- x with one column of blocks whose row blocks all have at least n rows.
local function tall_blocks(x, what, level)
  local m, n = x.shape[1], x.shape[2]
  if m < n then
    error(fmt("lask.array.linalg: %s: TSQR needs a tall matrix (rows >= columns), got shape %s", what,
      core.tuple(x.shape)), level + 1)
  end
  local rows, acc = {}, 0
  for _, r in ipairs(x.chunks[1]) do -- merge row blocks shorter than n with the next ones
    acc = acc + r
    if acc >= max(n, 1) then rows[#rows + 1], acc = acc, 0 end
  end
  if #rows == 0 then
    rows[1] = acc -- also 0 rows: one empty block ((0, 0) said "chunks (()) sum to 0")
  elseif acc > 0 then
    rows[#rows] = rows[#rows] + acc
  end
  return x:rechunk { rows, { n } }
end

-- Rows of a stage-1 piece of a very tall block, for n columns: about 2^31 flops of
-- QR (a fraction of a second), and at least 16n rows, so that the R factors the
-- pieces add to stage 2 cost little. Ctrl-C stops a get between tasks, so it waits
-- for one piece, not for the QR of a whole block.
local function piece_rows(n) return max(16 * n, (1 << 30) // max(n * n, 1)) end

-- The stage-1 panels of x: one per block, and a block of at least twice
-- piece_rows(n) rows cut into pieces of about that many (views of its rows; the
-- kernels cut each into cache-sized panels themselves).
local function panels_of(x)
  local panels, h = {}, piece_rows(x.shape[2])
  for i, rows in ipairs(x.chunks[1]) do
    local key = core.block_key(x.name, { i - 1, 0 })
    local k = rows >= 2 * h and rows // h or 1
    for j = 0, k - 1 do
      local src = k == 1 and key or { K "rows", key, rows * j // k, rows * (j + 1) // k }
      panels[#panels + 1] = { src = src, block = i - 1, piece = j }
    end
  end
  return panels
end

-- The number of ranks graphs are built for: lask.mpi's size when the script
-- required it (every rank builds the same graph), else 1.
local function ranks()
  local mpi = package.loaded["lask.mpi"]
  return type(mpi) == "table" and math.type(mpi.size) == "integer" and mpi.size or 1
end

-- The TSQR tasks of x: those R needs into dsk, the second stage's Q into qdsk.
-- Returns the key of R and, per panel, a function w(right, into) giving the task of
-- the panel's slice of the stages above (times `right`, a key or nil; the products
-- it shares with other panels go into the graph into) — its Q block is
-- qr_apply(factor, w).
-- On P > 1 ranks (lask.mpi) stage 2 follows the ranks: the R factors of the row
-- blocks a rank owns (lask.mpi's "blocks" rule: block b of B on rank b*P//B) are
-- merged there in one group, then the groups' R pairwise, a binary tree of
-- log2(P) levels whose merges run on the rank of their left child: one n×n R
-- crosses per merge. Going down, the slice of a node's Q for each child is a task of
-- its own on the node's rank (tree keys (name, node, slot), owned by the node's
-- rank), so one n×n block crosses per child on another rank.
local function tsqr_tasks(x, base, dsk, qdsk)
  local n = x.shape[2]
  local panels = panels_of(x)
  local level = {} -- the R factors of this level: {rkey=, slot=, q2=, up=}
  for p, pan in ipairs(panels) do
    local src = pan.src
    local piece = pan.piece or 0
    local qk, rk = lkey(base .. "-qr-st1", pan.block, piece), lkey(base .. "-r-st1", pan.block, piece)
    dsk[qk] = { K "qr_factor", src }
    dsk[rk] = { K "item", qk, 1 }
    pan.qk = qk
    level[p] = { rkey = rk }
    pan.node = level[p]
  end
  -- Merges members (nodes of the level below) into group g of stage 2's level depth.
  local function merge(members, depth, g, suffix, keyed)
    local sk = lkey(base .. "-r-st1-stacked" .. suffix, g, 0)
    local qk = lkey(base .. "-qr-st2" .. suffix, g, 0)
    local rlist = {}
    for j, mbr in ipairs(members) do
      rlist[j] = mbr.rkey
      mbr.slot = j - 1
    end
    dsk[sk] = { K "vstack", rlist }
    dsk[qk] = { K "qr_factor", sk } -- merges the triangles pairwise: R without Q
    local rk, q2 = lkey(base .. "-r-st2" .. suffix, g, 0), lkey(base .. "-q-st2" .. suffix, g, 0)
    dsk[rk] = { K "item", qk, 1 }
    qdsk[q2] = { K "qr_apply", { K "item", qk, 0 } } -- this Q, formed while R's SVD runs
    local node = { rkey = rk, q2 = q2, wkey = lkey(base .. "-w-st2" .. suffix, g, 0), keyed = keyed }
    for _, mbr in ipairs(members) do
      mbr.q2, mbr.up = q2, node
      if keyed and mbr.keyed then mbr.wkey = lkey(base .. "-w-st2" .. suffix, g, mbr.slot) end
    end
    return node
  end
  local P, B = ranks(), #x.chunks[1]
  if P > 1 and B > 1 then -- stage 2 across ranks: each rank's group, then a binary tree
    local groups, of = {}, {}
    for _, pan in ipairs(panels) do
      local r = pan.block * P // B
      if not of[r] then
        of[r] = {}
        groups[#groups + 1] = of[r]
      end
      table.insert(of[r], pan.node)
    end
    level = {}
    for g, members in ipairs(groups) do level[g] = merge(members, 1, g - 1, "-1", true) end
    local depth = 1
    while #level > 1 do
      depth = depth + 1
      local up = {}
      for j = 1, #level, 2 do -- a lone last node waits for the level above
        up[#up + 1] = level[j + 1] and merge({ level[j], level[j + 1] }, depth, #up, "-" .. depth, true)
          or level[j]
      end
      level = up
    end
  else
    local depth = 0
    repeat -- stage 2: stack groups of R factors and factor them, until one is left
      depth = depth + 1
      -- 8 or more factors at the first level: two groups at least, merged by both
      -- workers at once (then the two triangles left by a third task)
      local ngroups = max(ceil(#level / GROUP), (depth == 1 and #level >= 8) and 2 or 1)
      local size, up = ceil(#level / ngroups), {}
      for g = 0, ngroups - 1 do
        local members = {}
        for j = g * size + 1, min((g + 1) * size, #level) do members[#members + 1] = level[j] end
        up[#up + 1] = merge(members, depth, g, ngroups == 1 and depth == 1 and "" or ("-" .. depth))
      end
      level = up
    until #level == 1
  end
  local top = level[1]
  -- The task of node's slice of the Q factors above it (n×n), times right. A
  -- product for a node of the tree is a task of its own in into (wkey), which the
  -- nodes below it share: computed once, not once per panel. Across ranks every
  -- tree node's slice is such a task (on its parent's rank).
  local function slice(node, right, into)
    local piece = { K "rows", node.q2, node.slot * n, (node.slot + 1) * n }
    local above, up = right, node.up
    if up ~= top and (up.keyed or right ~= nil) then
      into[up.wkey] = into[up.wkey] or slice(up, right, into)
      above = up.wkey
    elseif up ~= top then
      above = slice(up, nil, into) -- views: nothing to share
    end
    return above and { K "matmul", piece, above } or piece
  end
  for _, pan in ipairs(panels) do
    pan.w = function(right, into) return slice(pan.node, right, into) end
  end
  return top.rkey, panels
end

-- The blocks of Q (or U, with right = the key of U_R) into dsk under name.
local function q_blocks(name, x, panels, right, dsk)
  local per_block = {}
  for _, pan in ipairs(panels) do
    local list = per_block[pan.block + 1] or {}
    per_block[pan.block + 1] = list
    list[#list + 1] = { K "qr_apply", { K "item", pan.qk, 0 }, pan.w(right, dsk) }
  end
  for i, list in ipairs(per_block) do
    dsk[lkey(name, i - 1, 0)] = #list == 1 and list[1] or { K "vstack", list }
  end
  return x.chunks[1]
end

local function tsqr_check(x, what, level)
  x = matrix_arg(x, what, level + 1)
  if #x.chunks[2] ~= 1 then
    x = x:rechunk { x.chunks[1], { x.shape[2] } } -- one column of blocks, as TSQR needs
  end
  return tall_blocks(x, what, level + 1)
end

--- The QR factorisation of a tall-and-skinny array, by TSQR: x = q r.
-- @param x lask.array: 2-d, one column of blocks, each block at least as tall as wide
-- @return lask.array q: orthonormal columns, x's shape and row blocks
-- @return lask.array r: upper triangular, n x n
-- @raise when x is not tall-and-skinny in one column of blocks
-- @usage local x = da.random.random({40, 3}, {chunks = {10, 3}, seed = 1})
-- local q, r = la.tsqr(x)
-- local qtq = q.T:dot(q):compute()
-- assert(math.abs(qtq:get(2, 2) - 1) < 1e-12 and r.shape[1] == 3)
function la.tsqr(x)
  x = tsqr_check(x, "tsqr", 2)
  return keep_float32(x, tsqr64(x))
end

-- The TSQR graph, whose results are float64 whatever x's dtype.
function tsqr64(x)
  local tok = core.tokenize("tsqr", x)
  local base, n = "tsqr-" .. tok, x.shape[2]
  local shared, qtasks = {}, {}
  local rkey, panels = tsqr_tasks(x, base, shared, qtasks)
  local qname, rname = base .. "-q", base .. "-r"
  local qd, rd = with(shared, qtasks), with(shared)
  local rows = q_blocks(qname, x, panels, nil, qd)
  rd[lkey(rname, 0, 0)] = rkey
  local q = core.new(layer(qname, qd), { x }, { rows, { n } }, "float64")
  local r = core.new(layer(rname, rd), { x }, { { n }, { n } }, "float64")
  return q, r
end

--- The QR factorisation x = q r: TSQR for tall arrays; a short-and-fat one as Dask's sfqr.
-- sfqr (lask.array.linalg_extras): the first column block, widened to the rows, is
-- factored; every other column block of r is qᵀ x_j, in parallel.
-- @param x lask.array: 2-d
-- @return lask.array q
-- @return lask.array r
-- @usage local q, r = la.qr(da.eye(4, {chunks = {2, 4}}))
-- assert(math.abs(math.abs(r:compute():get(1, 1)) - 1) < 1e-12)
function la.qr(x)
  x = matrix_arg(x, "qr", 2)
  if x.shape[1] >= x.shape[2] then return la.tsqr(x) end
  return keep_float32(x, require("lask.array.linalg_extras").sfqr(x))
end

--- The singular value decomposition x = u · diag(s) · v, through CholeskyQR2 or TSQR.
-- v is Vᵀ, as numpy and Dask return it; the signs are deterministic. A short-and-fat
-- x goes through xᵀ. With 128 columns or more (on one rank), x = QR by CholeskyQR2
-- (all level-3 BLAS: xᵀx per block, its Cholesky factor R1, Q1 = x R1⁻¹ and Q1ᵀQ1
-- per block, R = R2 R1), then R's SVD and u = Q1 (R2⁻¹ U_R) per block; TSQR's
-- Householder factors instead, decided as the graph runs, when that would lose
-- accuracy: the Cholesky factorisation fails, R1's condition estimate exceeds 1e7,
-- or the first pass leaves ‖Q1ᵀQ1 − I‖_F above 0.5 (README "SVD by CholeskyQR2").
-- Either way u is orthonormal and u·diag(s)·v = x to a few units of rounding.
-- @param x lask.array: 2-d, tall-and-skinny in one column of blocks (or short-and-fat in one row)
-- @return lask.array u
-- @return lask.array s: the singular values, largest first
-- @return lask.array v
-- @usage local u, s, v = la.svd(da.eye(4, {chunks = {2, 4}}) * 3)
-- assert(math.abs(s:compute():get(1) - 3) < 1e-12)
function la.svd(x)
  x = matrix_arg(x, "svd", 2)
  return keep_float32(x, svd64(x))
end

-- The SVD through CholeskyQR2 (engine/array/cholqr.h), TSQR's Householder factors
-- when it would lose accuracy, decided as the graph runs: x tall, one column of
-- row blocks each at least as tall as wide (tsqr_check's). Its tasks work on TSQR's
-- stage-1 panels (panels_of: a very tall block in pieces, for Ctrl-C), one U piece
-- each, stacked per block.
local function svd_cholqr(x)
  local base, n = "svd-" .. core.tokenize("svd-cholqr", x), x.shape[2]
  local shared, grams, steps, houses = {}, {}, {}, {}
  local panels = panels_of(x)
  local r1, top = lkey(base .. "-r1", 0), lkey(base .. "-top", 0)
  for p, pan in ipairs(panels) do
    grams[p], steps[p], houses[p] = lkey(base .. "-gram", p - 1), lkey(base .. "-step", p - 1),
        lkey(base .. "-house", p - 1)
    shared[grams[p]] = { K "gram", pan.src }
    shared[steps[p]] = { K "cholqr_step", pan.src, r1 }
    shared[houses[p]] = { K "cholqr_house", pan.src, top }
  end
  shared[r1] = { K "cholqr_r1", grams }
  shared[top] = { K "cholqr_top", steps, r1 }
  local merge, svdk = lkey(base .. "-merge", 0), lkey(base .. "-svd", 0)
  shared[merge] = { K "cholqr_merge", houses, top }
  shared[svdk] = { K "svd", { K "item", merge, 0 } }
  local uname, sname, vname = base .. "-u", base .. "-s", base .. "-v"
  local ud, sd, vd = with(shared), with(shared), with(shared)
  local w = lkey(base .. "-w", 0)
  ud[w] = { K "cholqr_w", merge, { K "item", svdk, 0 } }
  local per_block = {}
  for p, pan in ipairs(panels) do
    local list = per_block[pan.block + 1] or {}
    per_block[pan.block + 1] = list
    list[#list + 1] = { K "cholqr_u", steps[p], houses[p], w, p - 1 }
  end
  for i, list in ipairs(per_block) do ud[lkey(uname, i - 1, 0)] = #list == 1 and list[1] or { K "vstack", list } end
  sd[lkey(sname, 0)] = { K "item", svdk, 1 }
  vd[lkey(vname, 0, 0)] = { K "item", svdk, 2 }
  return core.new(layer(uname, ud), { x }, { x.chunks[1], { n } }, "float64"),
    core.new(layer(sname, sd), { x }, { { n } }, "float64"),
    core.new(layer(vname, vd), { x }, { { n }, { n } }, "float64")
end

-- The SVD graph, float64 whatever x's dtype.
function svd64(x)
  if x.shape[1] < x.shape[2] then
    local u, s, v = svd64(x.T)
    return v.T, s, u.T
  end
  x = tsqr_check(x, "svd", 2)
  local min_cols = require("lask.array.linalg_extras").cholqr_min_cols
  if x.shape[2] >= min_cols and x.shape[1] > 0 and ranks() == 1 then return svd_cholqr(x) end
  local base, n = "tsqr-" .. core.tokenize("svd", x), x.shape[2]
  local shared, qtasks = {}, {}
  local rkey, panels = tsqr_tasks(x, base, shared, qtasks)
  local svdk = lkey(base .. "-svd-st2", 0, 0)
  shared[svdk] = { K "svd", rkey }
  local uname, sname, vname = base .. "-u", base .. "-s", base .. "-v"
  local ud, sd, vd = with(shared, qtasks), with(shared), with(shared)
  local ur = lkey(base .. "-u-st2", 0, 0)
  ud[ur] = { K "item", svdk, 0 }
  local rows = q_blocks(uname, x, panels, ur, ud)
  sd[lkey(sname, 0)] = { K "item", svdk, 1 }
  vd[lkey(vname, 0, 0)] = { K "item", svdk, 2 }
  return core.new(layer(uname, ud), { x }, { rows, { n } }, "float64"),
    core.new(layer(sname, sd), { x }, { { n } }, "float64"),
    core.new(layer(vname, vd), { x }, { { n }, { n } }, "float64")
end

-- ------------------------------------------------------------------------------
-- Randomized SVD (Halko, Martinsson & Tropp 2011)

-- How the products with a tall x are cut into tasks, given its row blocks' heights:
-- the blocks in at most 16 groups; when there are fewer than 8 blocks, each cut
-- into pieces (views of rows) so that there are at least 8 tasks, an even count:
-- two workers are never left with an odd last task on the chain of dependent
-- stages. No piece has fewer than l rows (the blocks have at least l), so the
-- TSQR of the pieces of x w keeps them as they are. Returns the tasks, each a list
-- of {block, lo, hi} (rows lo..hi-1 of a 0-based block; lo nil: the whole block).
local function product_cuts(heights, l)
  local b, tasks = #heights, {}
  if b >= 8 then
    local ng = min(b, 16)
    for g = 0, ng - 1 do
      local list = {}
      for i = g * b // ng, (g + 1) * b // ng - 1 do list[#list + 1] = { i } end
      tasks[g + 1] = list
    end
    return tasks
  end
  local s = ceil(8 / b)
  if (b * s) % 2 == 1 then s = s + 1 end
  for i, r in ipairs(heights) do
    local p = min(s, max(r // l, 1))
    for j = 0, p - 1 do
      tasks[#tasks + 1] = { p == 1 and { i - 1 } or { i - 1, j * r // p, (j + 1) * r // p } }
    end
  end
  return tasks
end

-- The task (or key) of one piece of a product cut, for x's blocks.
local function piece(x, cut)
  local key = core.block_key(x.name, { cut[1], 0 })
  return cut[2] and { K "rows", key, cut[2], cut[3] } or key
end

-- Partial sums under keys parts, added in about √T groups in parallel (into dsk,
-- under name-sum): the keys of the groups' sums (parts itself when 4 or fewer).
local function grouped_sums(dsk, name, parts)
  if #parts <= 4 then return parts end
  local size, sums = ceil(math.sqrt(#parts)), {}
  for g = 0, ceil(#parts / size) - 1 do
    sums[g + 1] = lkey(name .. "-sum", g)
    dsk[sums[g + 1]] = { K "sum_agg", table.move(parts, g * size + 1, min((g + 1) * size, #parts), 1, {}) }
  end
  return sums
end

-- One power iteration on the small side: wt (l×n, one block) -> orth((xᵀx w)ᵀ),
-- l×n, one block. Each task takes its pieces of x through both products
-- (power_step); the partial sums are added in groups, and orth_rows adds the
-- groups' sums as it copies them into place for LAPACK.
local function power_iteration(x, wt, cuts)
  local l, n = wt.shape[1], wt.shape[2]
  local name = "power-" .. core.tokenize("power", x, wt)
  local dsk, parts = {}, {}
  local wkey = core.block_key(wt.name, { 0, 0 })
  for t, list in ipairs(cuts) do
    local xs = {}
    for j, cut in ipairs(list) do xs[j] = piece(x, cut) end
    parts[t] = lkey(name .. "-partial", t - 1)
    dsk[parts[t]] = { K "power_step", xs, wkey, 0, l }
  end
  dsk[lkey(name, 0, 0)] = { K "orth_rows", grouped_sums(dsk, name, parts) }
  return core.new(layer(name, dsk), { x, wt }, { { l }, { n } }, "float64")
end

-- x w (m×l), one block per piece of x, for wt = wᵀ in one block: taken as (wᵀxᵀ)ᵀ,
-- as OpenBLAS runs the thin-first product at 47 GFLOP/s against 40-42 the other
-- way round (110×1000 by 1000×1000, one core).
local function times(x, wt, pieces)
  wt = wt:rechunk { { wt.shape[1] }, { wt.shape[2] } }
  local name = "times-" .. core.tokenize("times", x, wt)
  local dsk, wkey, heights = {}, core.block_key(wt.name, { 0, 0 }), {}
  for j, cut in ipairs(pieces) do
    heights[j] = cut[2] and cut[3] - cut[2] or x.chunks[1][cut[1] + 1]
    dsk[lkey(name, j - 1, 0)] = { K "transpose", { K "matmul", wkey, { K "transpose", piece(x, cut) } } }
  end
  return core.new(layer(name, dsk), { x, wt }, { heights, { wt.shape[1] } }, "float64")
end

-- qᵀx (l×n) for q (m×l) with one block per piece of x: one product per piece, as
-- soon as its block of q is there, summed in groups; in two column blocks when n
-- is 4l or more, so that the TSQR of its transpose (the SVD that follows) has two
-- blocks for two workers.
local function t_times(x, q, pieces)
  local l, n = q.shape[2], x.shape[2]
  assert(#q.chunks[1] == #pieces, "t_times: q must have one block per piece of x")
  local name = "t-times-" .. core.tokenize("t-times", x, q)
  local dsk, parts = {}, {}
  for j, cut in ipairs(pieces) do
    parts[j] = lkey(name .. "-partial", j - 1)
    dsk[parts[j]] = { K "matmul", { K "transpose", core.block_key(q.name, { j - 1, 0 }) }, piece(x, cut) }
  end
  local cols = n >= 4 * l and { n // 2, n - n // 2 } or { n }
  local c0 = 0
  for c, width in ipairs(cols) do
    local mine = parts
    if #cols > 1 then
      mine = {}
      for j, part in ipairs(parts) do mine[j] = { K "getitem", part, { 0, c0 }, { l, c0 + width } } end
    end
    local sums = grouped_sums(dsk, name .. "-" .. (c - 1), mine)
    dsk[lkey(name, 0, c - 1)] = #sums == 1 and sums[1] or { K "sum_agg", sums }
    c0 = c0 + width
  end
  return core.new(layer(name, dsk), { x, q }, { { l }, cols }, "float64")
end

--- The k leading singular triplets, approximately: a randomized SVD (Halko, Martinsson & Tropp).
-- The range of x is found from x times a Gaussian test matrix, refined by power
-- iterations with re-orthonormalisation between them. A short-and-fat x goes
-- through xᵀ; below, x is tall (m×n, m >= n) and l = k + n_oversamples.
--   "power": each iteration is z = xᵀ(x w), then w = orth(z) — orthonormalised on
--            the small side (n×l, one Householder QR), both products of a row block
--            in one task; finally y = x w, q = tsqr(y). The range is that of
--            (x xᵀ)^p x Ω, as in Halko et al.'s algorithm 4.3, re-orthonormalised
--            after every pair of products (singular values enter each QR squared).
--   "QR":    re-orthonormalises after every product (their algorithm 4.4: TSQR of
--            x w, QR of xᵀq), for spectra too flat or too steep for squaring.
-- Then b = qᵀx (l×n), its SVD, and u = q·u_b.
-- @param x lask.array: 2-d
-- @param k integer: the number of triplets
-- @param[opt] opts table: `n_power_iter` (0), `n_oversamples` (10), `seed`, `iterator` ("power" or "QR")
-- @return lask.array u
-- @return lask.array s
-- @return lask.array v
-- @usage local x = da.random.random({60, 10}, {chunks = {20, 10}, seed = 2})
-- local u, s, v = la.svd_compressed(x, 3, {seed = 0, n_power_iter = 2})
-- local _, s_full = la.svd(x)
-- assert(math.abs(s:compute():get(1) - s_full:compute():get(1)) < 1e-6)
function la.svd_compressed(x, k, opts)
  x = matrix_arg(x, "svd_compressed", 2)
  opts = opts or {}
  local m, n = x.shape[1], x.shape[2]
  if math.type(k) ~= "integer" or k < 1 or k > min(m, n) then
    error(fmt("lask.array.linalg: svd_compressed: k must be an integer in 1..%d (min of the shape %s), got %s",
      min(m, n), core.tuple(x.shape), tostring(k)), 2)
  end
  local iters, over = opts.n_power_iter or 0, opts.n_oversamples or 10
  local iterator = opts.iterator or "power"
  if iterator ~= "power" and iterator ~= "QR" then
    error("lask.array.linalg: svd_compressed: iterator must be \"power\" or \"QR\", got " .. tostring(iterator), 2)
  end
  if math.type(iters) ~= "integer" or iters < 0 or math.type(over) ~= "integer" or over < 0 then
    error(fmt("lask.array.linalg: svd_compressed: n_power_iter and n_oversamples must be integers >= 0, got %s and %s",
      tostring(iters), tostring(over)), 2)
  end
  if m < n then
    local u, s, v = la.svd_compressed(x.T, k, opts)
    return v.T, s, u.T
  end
  return keep_float32(x, svd_compressed64(x, k, opts, n))
end

-- The randomized SVD of a tall x (checked), float64.
function svd_compressed64(x, k, opts, n)
  local iters, over, iterator = opts.n_power_iter or 0, opts.n_oversamples or 10, opts.iterator or "power"
  x = tall_blocks(x:rechunk { x.chunks[1], { n } }, "svd_compressed", 2) -- row blocks of n rows at least
  local l = min(k + over, n)
  local da = require "lask.array"
  local cuts = product_cuts(x.chunks[1], l)
  local pieces = {}
  for _, list in ipairs(cuts) do table.move(list, 1, #list, #pieces + 1, pieces) end
  -- the test matrix, transposed (l×n): Ωᵀ, drawn in parallel in blocks of about
  -- 32 rows (the draws do not depend on the blocks)
  local wt = da.random.normal({ l, n }, { chunks = { ceil(l / min(8, ceil(l / 32))), n }, seed = opts.seed })
  wt = wt:rechunk { { l }, { n } }
  local q
  if iterator == "power" then
    for _ = 1, iters do wt = power_iteration(x, wt, cuts) end
    q = tsqr64(tsqr_check(times(x, wt, pieces), "svd_compressed", 2))
  else
    q = tsqr64(tsqr_check(times(x, wt, pieces), "svd_compressed", 2))
    for _ = 1, iters do
      q = tsqr64(tsqr_check(t_times(x, q, pieces).T, "svd_compressed", 2))
      q = tsqr64(tsqr_check(times(x, q.T, pieces), "svd_compressed", 2))
    end
  end
  local b = t_times(x, q, pieces) -- l×n: small
  local ub, s, v = svd64(b)
  local u = da.dot(q, ub)
  return u:slice({}, { 1, k }), s:slice({ 1, k }), v:slice({ 1, k }, {})
end

-- ------------------------------------------------------------------------------
-- Square systems and least squares

local function whole(x) return { { x.shape[1] }, { x.shape[2] } } end

-- One task over x in a single block: name, the kernel's extra args, output chunks.
local function single_block(what, x, kernel, extra, out_chunks)
  local one = x:rechunk(whole(x))
  local name = what .. "-" .. core.tokenize(what, one, table.unpack(extra))
  local task = { K(kernel), core.block_key(one.name, { 0, 0 }), table.unpack(extra) }
  local dsk = { [lkey(name, 0, 0)] = task }
  return core.new(layer(name, dsk), { one }, out_chunks, "float64")
end

--- The LU factorisation a = p · l · u of a square matrix, computed in one block.
-- @param a lask.array: square
-- @return lask.array p: a permutation matrix
-- @return lask.array l: lower triangular, unit diagonal
-- @return lask.array u: upper triangular
-- @usage local a = da.from_array({{0, 1}, {2, 3}})
-- local p, l, u = la.lu(a)
-- assert(da.abs(p:dot(l):dot(u) - a):max():compute():item() < 1e-12)
function la.lu(a)
  a = square_arg(a, "lu", 2)
  local one = a:rechunk(whole(a))
  local name = "lu-" .. core.tokenize("lu", one)
  local dsk = { [lkey(name, 0, 0)] = { K "lu", core.block_key(one.name, { 0, 0 }) } }
  local out = {}
  for i, part in ipairs { "p", "l", "u" } do
    dsk[lkey(name .. "-" .. part, 0, 0)] = { K "item", lkey(name, 0, 0), i - 1 }
    out[i] = core.new(layer(name .. "-" .. part, dsk), { one }, whole(a), "float64")
  end
  return keep_float32(a, out[1], out[2], out[3])
end

--- The solution x of a · x = b for a square a.
-- @param a lask.array: square
-- @param b lask.array: 1-d or 2-d
-- @param[opt] opts table: `assume_a` ("gen", the default, or "pos": symmetric positive definite, by Cholesky)
-- @return lask.array x
-- @usage local x = la.solve(da.from_array({{2, 0}, {0, 4}}), da.from_array({2, 8}))
-- assert(x:compute():get(2) == 2)
function la.solve(a, b, opts)
  a = square_arg(a, "solve", 2)
  b = array_arg(b, "solve", 2)
  local assume = (opts and opts.assume_a) or "gen"
  if assume ~= "gen" and assume ~= "pos" then
    error("lask.array.linalg: solve: assume_a must be \"gen\" or \"pos\", got " .. tostring(assume), 2)
  end
  if b.ndim < 1 or b.ndim > 2 or b.shape[1] ~= a.shape[1] then
    error(fmt("lask.array.linalg: solve: b must have %d rows (a is %s), got shape %s", a.shape[1],
      core.tuple(a.shape), core.tuple(b.shape)), 2)
  end
  local a1, b1 = a:rechunk(whole(a)), b:rechunk(b.ndim == 1 and { { b.shape[1] } } or whole(b))
  local name = "solve-" .. core.tokenize("solve", a1, b1, assume)
  local idx = b.ndim == 1 and { 0 } or { 0, 0 }
  local dsk = { [core.block_key(name, idx)] = { K "solve", core.block_key(a1.name, { 0, 0 }), core.block_key(b1.name, idx), assume } }
  local x = core.new(layer(name, dsk), { a1, b1 }, b1.chunks, "float64")
  return keep_float32(a.dtype == "float32" and b or a, x)
end

--- The Cholesky factor of a symmetric positive definite matrix: u with a = uᵀu (or the lower one).
-- @param a lask.array: square, symmetric positive definite
-- @param[opt] opts table: `lower` (false)
-- @return lask.array
-- @usage local u = la.cholesky(da.from_array({{4, 2}, {2, 2}}))
-- assert(u:compute():get(1, 1) == 2 and u:compute():get(2, 1) == 0)
function la.cholesky(a, opts)
  a = square_arg(a, "cholesky", 2)
  return keep_float32(a, single_block("cholesky", a, "cholesky", { (opts and opts.lower) and true or false }, whole(a)))
end

--- The inverse of a square matrix.
-- @param a lask.array: square
-- @return lask.array
-- @usage assert(la.inv(da.from_array({{2, 0}, {0, 4}})):compute():get(2, 2) == 0.25)
function la.inv(a)
  a = square_arg(a, "inv", 2)
  return keep_float32(a, single_block("inv", a, "inv", {}, whole(a)))
end

--- The least-squares solution of a · x = b (numpy's `linalg.lstsq`'s results): through
-- TSQR, a = QR, then the least-squares solution of R x = Qᵀb (LAPACK's dgelsd on the
-- small R, which also gives the rank and the singular values); residuals are the
-- squared norms of b − a x per column.
-- @param a lask.array: 2-d, tall-and-skinny in one column of blocks
-- @param b lask.array: 1-d or 2-d, a's row blocks
-- @return lask.array x
-- @return lask.array residuals: shape (1,) for a 1-d b, (k,) for k columns
-- @return lask.array rank: 0-d int64
-- @return lask.array s: a's singular values
-- @usage local a = da.from_array({{1, 0}, {0, 1}, {0, 0}})
-- local x, res = la.lstsq(a, da.from_array({1, 2, 3}))
-- assert(math.abs(x:compute():get(2) - 2) < 1e-12 and math.abs(res:compute():get(1) - 9) < 1e-9)
function la.lstsq(a, b)
  a = matrix_arg(a, "lstsq", 2)
  b = array_arg(b, "lstsq", 2)
  if b.ndim > 2 or b.shape[1] ~= a.shape[1] then
    error(fmt("lask.array.linalg: lstsq: b must have %d rows (a is %s), got shape %s", a.shape[1],
      core.tuple(a.shape), core.tuple(b.shape)), 2)
  end
  local da = require "lask.array"
  local q, r = tsqr64(tsqr_check(a, "lstsq", 2))
  local qtb = da.dot(q.T, b)
  qtb = qtb:rechunk(b.ndim == 1 and { { qtb.shape[1] } } or whole(qtb))
  local n = a.shape[2]
  local name = "lstsq-" .. core.tokenize("lstsq", r, qtb)
  local idx = b.ndim == 1 and { 0 } or { 0, 0 }
  local solved = lkey(name, 0)
  local dsk = { [solved] = { K "lstsq", core.block_key(r.name, { 0, 0 }), core.block_key(qtb.name, idx) } }
  dsk[core.block_key(name .. "-x", idx)] = { K "item", solved, 0 }
  dsk[lkey(name .. "-rank")] = { K "item", solved, 2 }
  dsk[lkey(name .. "-s", 0)] = { K "item", solved, 3 }
  local x = core.new(layer(name .. "-x", dsk), { r, qtb }, qtb.chunks, "float64")
  local rank = core.new(layer(name .. "-rank", dsk), { r, qtb }, {}, "int64")
  local s = core.new(layer(name .. "-s", dsk), { r, qtb }, { { n } }, "float64")
  local residuals = ((b - da.dot(a, x)) ^ 2):sum { axis = 1 }
  if b.ndim == 1 then residuals = residuals:reshape { 1 } end -- numpy: shape (1,) for a 1-d b
  return keep_float32(a.dtype == "float32" and b or a, x, residuals, rank, s)
end

-- ------------------------------------------------------------------------------
-- Norms

local function abs_of(x) return require("lask.array").abs(x) end

local norm_ -- below

--- A vector or matrix norm, as numpy's `linalg.norm`. Vectors: any p (default
-- 2). Matrices: "fro" (default), "nuc", 1, -1, 2, -2, inf, -inf. With axis (an
-- integer, 1-based) the vector norm along it; with a pair of axes of a 2-D array
-- the matrix norm, of its transpose when they come the other way round. Integers
-- and booleans are taken as float64 (numpy does the same); float32 stays float32.
-- ord = 0 for vectors counts the non-zeros. opts.keepdims keeps the reduced axes at
-- extent 1, as numpy's keepdims=True.
-- @param x lask.array
-- @param[opt] ord number or string: "fro", "nuc", a number, `math.huge`, `-math.huge`
-- @param[opt] opts table: `axis` (1-based, or a pair), `keepdims`
-- @return lask.array: 0-d, or the norms along axis
-- @usage assert(la.norm(da.from_array({3, 4})):compute():item() == 5)
-- assert(la.norm(da.from_array({3, -4}), 1):compute():item() == 7)
function la.norm(x, ord, opts)
  x = array_arg(x, "norm", 2)
  if not (opts and opts.keepdims) then return norm_(x, ord, opts, 3) end
  -- keepdims: the reduced axes stay, of extent 1 (all of them without an axis)
  local axis, kept = opts.axis, {}
  local reduced = {}
  if axis == nil then
    for d = 1, x.ndim do reduced[d] = true end
  else
    for _, a in ipairs(type(axis) == "table" and axis or { axis }) do
      if math.type(a) == "integer" then reduced[a < 0 and x.ndim + 1 + a or a] = true end
    end
  end
  for d = 1, x.ndim do kept[d] = reduced[d] and 1 or x.shape[d] end
  local r = norm_(x, ord, opts, 3)
  return #kept == 0 and r or r:reshape(kept)
end

-- norm without keepdims; level: the caller's for errors.
function norm_(x, ord, opts, level)
  if x.dtype ~= "float64" and x.dtype ~= "float32" then x = x:astype("float64") end
  local axis = opts and opts.axis
  if type(axis) == "table" and #axis == 2 then
    local function axis0(a) -- 0 or 1, -1 for anything else
      if math.type(a) ~= "integer" or a == 0 or a < -2 or a > 2 then return -1 end
      return a > 0 and a - 1 or 2 + a
    end
    local a1, a2 = axis0(axis[1]), axis0(axis[2])
    if x.ndim ~= 2 or a1 + a2 ~= 1 or a1 * a2 ~= 0 then
      error(fmt("lask.array.linalg: norm: a pair of axes must be the two axes of a 2-D array, got {%s, %s} for %d-D",
        tostring(axis[1]), tostring(axis[2]), x.ndim), level)
    end
    if a1 == 1 then x = x.T end
    axis = nil
  end
  local ax = axis or (x.ndim == 1 and 1 or nil)
  if ax then
    local p = ord or 2
    if type(p) ~= "number" then error("lask.array.linalg: norm: the order of a vector norm must be a number", level) end
    local a = abs_of(x)
    if p == math.huge then return a:max { axis = ax } end
    if p == -math.huge then return a:min { axis = ax } end
    if p == 1 then return a:sum { axis = ax } end
    if p == 0 then return require("lask.array").not_equal(x, 0):astype(x.dtype):sum { axis = ax } end -- the non-zeros
    if p == 2 then return (a ^ 2):sum({ axis = ax }) ^ 0.5 end
    return ((a ^ p):sum { axis = ax }) ^ (1 / p)
  end
  if x.ndim ~= 2 then error("lask.array.linalg: norm: give an axis for arrays of more than 2 dimensions", level) end
  ord = ord or "fro"
  local a = abs_of(x)
  if ord == "fro" then return (a ^ 2):sum() ^ 0.5 end
  if ord == 1 then return a:sum({ axis = 1 }):max() end
  if ord == -1 then return a:sum({ axis = 1 }):min() end
  if ord == math.huge then return a:sum({ axis = 2 }):max() end
  if ord == -math.huge then return a:sum({ axis = 2 }):min() end
  if ord == 2 or ord == -2 or ord == "nuc" then
    local _, s = svd64(x)
    s = keep_float32(x, s)
    if ord == 2 then return s:max() end
    if ord == -2 then return s:min() end
    return s:sum()
  end
  error("lask.array.linalg: norm: ord must be \"fro\", \"nuc\", 1, -1, 2, -2, math.huge or -math.huge for a matrix, got "
    .. tostring(ord), level)
end

-- solve_triangular and svd_flip (lask.array.linalg_extras)
local extras = require "lask.array.linalg_extras"

--- x with a · x = b for a triangular a, block by block (scipy's solve_triangular, as Dask's).
-- a is square; only its lower (opts.lower) or upper (default) triangle is read. a is
-- rechunked to square blocks on its diagonal and b's rows to match; each block of x
-- is one triangular solve (BLAS dtrsm) of a diagonal block against its row of b
-- minus the products of the blocks already solved, so the blocks of a column of
-- x are solved in order and the columns of b in parallel. float64 (float32 when a
-- and b are).
-- @function solve_triangular
-- @param a lask.array: square, triangular
-- @param b lask.array: 1-D or 2-D with a's rows
-- @param[opt] opts table: `lower` (boolean, default false), `unit_diagonal` (boolean)
-- @return lask.array: x, b's shape
-- @raise when a is not square or b's rows differ; at compute, for a zero on the diagonal
-- @usage local a = da.from_array({{2.0, 0}, {1, 1}})
-- local x = la.solve_triangular(a, da.from_array({2.0, 3}), {lower = true})
-- assert(x:compute():get(2) == 2)
la.solve_triangular = extras.solve_triangular

--- u and v with signs flipped so that the output is deterministic (Dask's svd_flip).
-- Each singular vector pair (column k of u, row k of v) is multiplied by the sign
-- of the sum of v's row k (of u's column k with opts.u_based_decision), +1 for a
-- zero sum; u · diag(s) · v is unchanged.
-- @function svd_flip
-- @param u lask.array: (M, K), the left singular vectors in columns
-- @param v lask.array: (K, N), the right singular vectors in rows
-- @param[opt] opts table: `u_based_decision` (boolean, default false)
-- @return lask.array, lask.array: u and v corrected
-- @usage local u, v = la.svd_flip(da.from_array({{1.0, 0}, {0, 1}}), da.from_array({{-1.0, -2}, {3, 4}}))
-- assert(v:compute():get(1, 1) == 1 and u:compute():get(1, 1) == -1)
la.svd_flip = extras.svd_flip

return la
