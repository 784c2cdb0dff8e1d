// Argument checks shared by every fastvid op. Each message names the op, the argument, what was
// expected and what came; VALUE checks raise ValueError in Python, TYPE checks raise TypeError.
#pragma once

#include <c10/util/Exception.h>

#define FASTVID_CHECK_VALUE(cond, op, ...) TORCH_CHECK_VALUE(cond, op, ": ", __VA_ARGS__)
#define FASTVID_CHECK_TYPE(cond, op, ...) TORCH_CHECK_TYPE(cond, op, ": ", __VA_ARGS__)
