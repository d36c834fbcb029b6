-- lask.diagnostics.demo: graphs to show the diagnostics on, made of native kernels
-- only (so every task runs in parallel on the engine's workers).
local lask = require "lask"

local M = {}

-- svd_graph{blocks = 5, us = 20000}: the shape of the seed talk's tall-skinny SVD
-- of a 5-block array (dask.array.linalg.svd, TSQR), with spin kernels standing in
-- for the numerical work (us microseconds per block-sized step):
--   ('x', i, 0)                       a block                      spin
--   ('tsqr_2_QR_st1', i, 0)           QR of each block              spin
--   ('tsqr_2_R_st1', i, 0)            its R factor (getitem)        identity
--   ('tsqr_2_R_st1_stacked', 0, 0)    the Rs stacked (vstack)       sum
--   ('tsqr_2_QR_st2', 0, 0)           QR of the stack               spin
--   ('tsqr_2_R', 0, 0)                its R (getitem)               identity
--   ('tsqr_2_SVD_st2', 0, 0)          SVD of R                      spin
--   ('tsqr_2_S', 0)                   the singular values (getitem) identity
-- Returns the graph and the key of the result ('tsqr_2_S', 0).
function M.svd_graph(opts)
  opts = opts or {}
  local nblocks, us = opts.blocks or 5, opts.us or 20000
  local K, key = lask.kernels, lask.key
  local d, rs = {}, {}
  for i = 0, nblocks - 1 do
    d[key("x", i, 0)] = { K.spin, i + 1, us }
    d[key("tsqr_2_QR_st1", i, 0)] = { K.spin, key("x", i, 0), 2 * us }
    d[key("tsqr_2_R_st1", i, 0)] = { K.identity, key("tsqr_2_QR_st1", i, 0) }
    rs[#rs + 1] = key("tsqr_2_R_st1", i, 0)
  end
  d[key("tsqr_2_R_st1_stacked", 0, 0)] = { K.sum, rs }
  d[key("tsqr_2_QR_st2", 0, 0)] = { K.spin, key("tsqr_2_R_st1_stacked", 0, 0), us }
  d[key("tsqr_2_R", 0, 0)] = { K.identity, key("tsqr_2_QR_st2", 0, 0) }
  d[key("tsqr_2_SVD_st2", 0, 0)] = { K.spin, key("tsqr_2_R", 0, 0), us }
  d[key("tsqr_2_S", 0)] = { K.identity, key("tsqr_2_SVD_st2", 0, 0) }
  return d, key("tsqr_2_S", 0)
end

-- chain(n): k0 = 0, k1 = inc(k0), ..., the benchmark chain; returns it and "k"..n.
function M.chain(n)
  local inc = lask.kernels.inc
  local d = { k0 = 0 }
  for i = 1, n do d["k" .. i] = { inc, "k" .. (i - 1) } end
  return d, "k" .. n
end

return M
