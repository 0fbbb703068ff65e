# SPDX-License-Identifier: MIT
# Warning flags for every target of ours: -Wall -Wextra -Wshadow -Wconversion, -Werror in CI.
set(KB_C_WARNINGS -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2)
set(KB_CXX_WARNINGS -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion)
if(KB_WERROR)
  list(APPEND KB_C_WARNINGS -Werror)
  list(APPEND KB_CXX_WARNINGS -Werror)
endif()

function(kb_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C>:${KB_C_WARNINGS}>
    $<$<COMPILE_LANGUAGE:CXX>:${KB_CXX_WARNINGS}>)
  target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
endfunction()
