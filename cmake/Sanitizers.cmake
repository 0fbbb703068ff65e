# SPDX-License-Identifier: MIT
# -DKB_SANITIZE=ON builds everything with ASan + UBSan (C and C++ objects alike);
# UBSan findings abort so that ctest sees them as failures.
if(KB_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${_san})
  add_link_options(${_san})
endif()
