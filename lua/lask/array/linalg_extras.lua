--- Blocked triangular solves, SVD sign correction and short-and-fat QR, for lask.array.linalg.
-- `la.solve_triangular` (Dask's, block by block), `la.svd_flip` (Dask's sign rule)
-- and sfqr (la.qr of a short-and-fat matrix); lask.array.linalg re-exports them and
-- holds their reference (LDoc reads linalg.lua, not this file).
local core = require "lask.array.core"

local fmt = string.format
local block_key = core.block_key

local X = {}

-- la.svd takes CholeskyQR2 from this many columns (below, TSQR: narrow blocks are
-- read faster than CholeskyQR2's passes over them pay back); the tests lower it.
X.cholqr_min_cols = 128

local array_arg = require("lask.array.shape").util.need_array -- an array, from a table or ndarray too

-- x with a · x = b for a triangular a, block by block (scipy's solve_triangular, as Dask's).
-- a is square; only its lower (opts.lower) or upper (default) triangle is read. a is
-- rechunked to square blocks on its diagonal and b's rows to match; each block of x
-- is one triangular solve (BLAS dtrsm) of a diagonal block against its row of b
-- minus the products of the blocks already solved, so the blocks of a column of
-- x are solved in order and the columns of b in parallel. float64 (float32 when a
-- and b are).
-- @param a lask.array: square, triangular
-- @param b lask.array: 1-D or 2-D with a's rows
-- @param[opt] opts table: `lower` (boolean, default false), `unit_diagonal` (boolean)
-- @return lask.array: x, b's shape
-- @raise when a is not square or b's rows differ; at compute, for a zero on the diagonal
-- @usage local a = da.from_array({{2.0, 0}, {1, 1}})
-- local x = la.solve_triangular(a, da.from_array({2.0, 3}), {lower = true})
-- assert(x:compute():get(2) == 2)
function X.solve_triangular(a, b, opts)
  a, b = array_arg(a, "solve_triangular", 2), array_arg(b, "solve_triangular", 2)
  opts = opts or {}
  local lower, unit = opts.lower and true or false, opts.unit_diagonal and true or false
  if a.ndim ~= 2 or a.shape[1] ~= a.shape[2] then
    error(fmt("lask.array.linalg: solve_triangular: a must be a square matrix, got shape %s", core.tuple(a.shape)), 2)
  end
  if (b.ndim ~= 1 and b.ndim ~= 2) or b.shape[1] ~= a.shape[1] then
    error(fmt("lask.array.linalg: solve_triangular: b must be 1-D or 2-D with %d rows, got shape %s", a.shape[1],
      core.tuple(b.shape)), 2)
  end
  local rows = a.chunks[1]
  a = a:rechunk { rows, rows }
  local bc = core.plain(b.chunks)
  bc[1] = rows
  b = b:rechunk(bc)
  local nb = #rows
  local ncol = b.ndim == 2 and #b.chunks[2] or 1
  local name = "solve_triangular-" .. core.tokenize("solve_triangular", a, b, lower, unit)
  local ksolve, ksub, kmsum, kmat = core.kernel("solve_triangular"), core.kernel("sub"), core.kernel("matmul_sum"),
      core.kernel("matmul")
  -- the solves are named apart from the result's blocks, which compute may write
  -- straight into its output (giving no value to read back)
  local inner = name .. "-solve"
  local function bidx(i, j) return b.ndim == 2 and { i, j } or { i } end
  local layer = {
    name = name, kind = "generic",
    build = function()
      local dsk = {}
      for j = 0, ncol - 1 do
        for step = 0, nb - 1 do
          local i = lower and step or nb - 1 - step
          local rhs = block_key(b.name, bidx(i, j))
          local as, xs = {}, {}
          local from, to = 0, i - 1
          if not lower then from, to = i + 1, nb - 1 end
          for k = from, to do
            as[#as + 1] = block_key(a.name, { i, k })
            xs[#xs + 1] = block_key(inner, bidx(k, j))
          end
          if #as == 1 then rhs = { ksub, rhs, { kmat, as[1], xs[1] } }
          elseif #as > 1 then rhs = { ksub, rhs, { kmsum, as, xs } } end
          dsk[block_key(inner, bidx(i, j))] = { ksolve, block_key(a.name, { i, i }), rhs, lower, false, unit }
          dsk[block_key(name, bidx(i, j))] = block_key(inner, bidx(i, j))
        end
      end
      return dsk
    end,
  }
  local x = core.new(layer, { a, b }, b.chunks, "float64")
  if a.dtype == "float32" and b.dtype == "float32" then x = x:astype("float32") end
  return x
end

-- u and v with signs flipped so that the output is deterministic (Dask's svd_flip).
-- Each singular vector pair (column k of u, row k of v) is multiplied by the sign
-- of the sum of v's row k (of u's column k with opts.u_based_decision), +1 for a
-- zero sum; u · diag(s) · v is unchanged.
-- @param u lask.array: (M, K), the left singular vectors in columns
-- @param v lask.array: (K, N), the right singular vectors in rows
-- @param[opt] opts table: `u_based_decision` (boolean, default false)
-- @return lask.array, lask.array: u and v corrected
-- @usage local u, v = la.svd_flip(da.from_array({{1.0, 0}, {0, 1}}), da.from_array({{-1.0, -2}, {3, 4}}))
-- assert(v:compute():get(1, 1) == 1 and u:compute():get(1, 1) == -1)
function X.svd_flip(u, v, opts)
  u, v = array_arg(u, "svd_flip", 2), array_arg(v, "svd_flip", 2)
  if u.ndim ~= 2 or v.ndim ~= 2 or u.shape[2] ~= v.shape[1] then
    error(fmt("lask.array.linalg: svd_flip: u (M, K) and v (K, N) expected, got shapes %s and %s",
      core.tuple(u.shape), core.tuple(v.shape)), 2)
  end
  local da = require "lask.array"
  local by_u = opts and opts.u_based_decision
  local s = by_u and u:sum { axis = 1, keepdims = true } or v:sum({ axis = 2, keepdims = true }).T
  local dtype = by_u and u.dtype or v.dtype
  if dtype ~= "float32" then dtype = "float64" end
  local signs = da.where(da.greater_equal(s, 0), 1.0, -1.0):astype(dtype) -- (1, K)
  return u * signs, v * signs.T
end

-- The QR of a short-and-fat x (rows < columns), Dask's sfqr: q, r in float64.
-- x's rows are put in one block and its first column block widened to at least
-- the rows; that block is factored (q, r1), and every other column block j of r
-- is qᵀ x_j, a matrix product per block, in parallel. q is (m, m), r is (m, n)
-- with x's column blocks.
-- @param x lask.array: 2-D, rows < columns
-- @return lask.array, lask.array: q and r
-- @usage local x = da.random.normal({3, 10}, {chunks = {3, 4}, seed = 1})
-- local q, r = la.qr(x)
-- assert(r.shape[2] == 10 and #r.chunks[2] == 3)
function X.sfqr(x)
  local m, n = x.shape[1], x.shape[2]
  -- one row block; the first column block at least m wide
  local cols, first = {}, 0
  for _, c in ipairs(x.chunks[2]) do
    if first < math.max(m, 1) then first = first + c else cols[#cols + 1] = c end
  end
  table.insert(cols, 1, first)
  x = x:rechunk { { m }, cols }
  local name = "sfqr-" .. core.tokenize("sfqr", x)
  local kqr, kitem, kmat, kt = core.kernel("qr"), core.kernel("item"), core.kernel("matmul"), core.kernel("transpose")
  local fac, qname, rname = name .. "-factor", name .. "-q", name .. "-r"
  local layer = function(lname)
    return {
      name = lname, kind = "generic",
      build = function()
        local fkey = block_key(fac, { 0, 0 })
        local dsk = { [fkey] = { kqr, block_key(x.name, { 0, 0 }) } }
        dsk[block_key(qname, { 0, 0 })] = { kitem, fkey, 0 }
        dsk[block_key(rname, { 0, 0 })] = { kitem, fkey, 1 }
        for j = 1, #cols - 1 do
          dsk[block_key(rname, { 0, j })] = { kmat, { kt, { kitem, fkey, 0 } }, block_key(x.name, { 0, j }) }
        end
        return dsk
      end,
    }
  end
  local q = core.new(layer(qname), { x }, { { m }, { m } }, "float64")
  local r = core.new(layer(rname), { x }, { { m }, cols }, "float64")
  return q, r
end

return X
