# WeftBench.cmake - the benchmarks, built only with -DWEFT_BUILD_BENCH=ON
# (make bench, into build-bench/). bench/CMakeLists.txt defines them; the rule
# it keeps: only bench targets get -O3 -march=native, the library keeps the
# build type's flags, so the numbers measure what users link. Executables go
# to the top of the build directory, where bench/run.sh looks for them.
if(EXISTS "${PROJECT_SOURCE_DIR}/bench/CMakeLists.txt")
  add_subdirectory(bench)
else()
  message(STATUS "weft: no bench/CMakeLists.txt yet: no benchmarks to build")
endif()
