# WeftFlags.cmake - compiler flags shared by every target of the build:
# warnings, POSIX/GNU feature macros and sanitizers. Included once from the
# top-level CMakeLists.txt before any target; directory-scoped on purpose, so
# the library, the tool, examples, tests and benchmarks all build alike.

# pthreads, clock_gettime, mmap/mremap, ... under -std=c11. _GNU_SOURCE
# implies _POSIX_C_SOURCE=200809L. Sources must not #define it again
# unguarded (a redefinition is a warning, an error with WEFT_WERROR).
add_compile_definitions(_GNU_SOURCE)

add_compile_options(-Wall -Wextra)
if(WEFT_WERROR)
  add_compile_options(-Werror)
endif()

if(WEFT_SANITIZE STREQUAL "address")
  set(WEFT_SANITIZE_FLAGS -fsanitize=address,undefined
      -fno-sanitize-recover=all -fno-omit-frame-pointer)
elseif(WEFT_SANITIZE STREQUAL "thread")
  set(WEFT_SANITIZE_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT WEFT_SANITIZE STREQUAL "")
  message(FATAL_ERROR
    "WEFT_SANITIZE='${WEFT_SANITIZE}': use '', 'address' or 'thread'")
endif()
if(WEFT_SANITIZE_FLAGS)
  add_compile_options(${WEFT_SANITIZE_FLAGS})
  add_link_options(${WEFT_SANITIZE_FLAGS})
endif()
