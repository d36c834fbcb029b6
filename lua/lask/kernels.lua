-- lask.kernels: the native kernels (C functions usable as task heads, printed by
-- name), the same table as require("lask").kernels and lask.core.kernels.
return require("lask.core").kernels
