--- stub
-- @module lask.array.reductions_more
return { functions = {} }
