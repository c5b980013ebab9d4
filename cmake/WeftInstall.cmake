# WeftInstall.cmake - what `cmake --install` (make install) puts where:
#   include/weft.h, include/weft/*.h     the public headers
#   lib/libweft.so*  (or libweft.a)      the library
#   lib/libweft_mpi.so* (or .a)          the mpi scheduler, when MPI was found
#   bin/weft                             the command (rpath $ORIGIN/../lib)
#   lib/pkgconfig/weft.pc                for pkg-config --cflags --libs weft
#   lib/pkgconfig/weft-mpi.pc            the same with libweft_mpi (weft-mpi)
#   lib/cmake/weft/                      for find_package(weft CONFIG), targets
#                                        weft::weft and weft::weft_mpi
#   share/weft/lsan.supp                 LeakSanitizer suppressions for
#                                        programs that draw pictures
# The pkg-config file is written at install time, so that its prefix is the
# one given to `cmake --install --prefix` (the CMake package is relocatable
# by itself).

include(CMakePackageConfigHelpers)

set(WEFT_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/weft")

install(FILES "${PROJECT_SOURCE_DIR}/include/weft.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/weft"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.h")

install(TARGETS weft EXPORT weftTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
if(TARGET weft_mpi)
  install(TARGETS weft_mpi EXPORT weftTargets
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
endif()
if(TARGET weft_cli)
  install(TARGETS weft_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()
install(FILES "${PROJECT_SOURCE_DIR}/share/weft/lsan.supp"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/weft")

# CMake package.
install(EXPORT weftTargets NAMESPACE weft:: DESTINATION "${WEFT_CMAKEDIR}")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/weftConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/weftConfig.cmake"
  INSTALL_DESTINATION "${WEFT_CMAKEDIR}")
# 0.x: a minor release may break the API, so only the same minor matches.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/weftConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/weftConfig.cmake"
  "${PROJECT_BINARY_DIR}/weftConfigVersion.cmake"
  DESTINATION "${WEFT_CMAKEDIR}")

# pkg-config. A shared libweft hides its own dependencies (Libs.private); a
# static one must name them in Libs, or `pkg-config --libs weft` would not
# link without --static.
set(weft_pc_deps "") # (Graphviz is opened with dlopen, not linked)
set(weft_pc_libs "-pthread -lm")
if(CMAKE_DL_LIBS) # dlopen, for Graphviz
  string(APPEND weft_pc_libs " -l${CMAKE_DL_LIBS}")
endif()
if(WEFT_SHARED)
  set(WEFT_PC_REQUIRES "")
  set(WEFT_PC_REQUIRES_PRIVATE "${weft_pc_deps}")
  set(WEFT_PC_LIBS "")
  set(WEFT_PC_LIBS_PRIVATE "${weft_pc_libs}")
else()
  set(WEFT_PC_REQUIRES "${weft_pc_deps}")
  set(WEFT_PC_REQUIRES_PRIVATE "")
  set(WEFT_PC_LIBS " ${weft_pc_libs}")
  set(WEFT_PC_LIBS_PRIVATE "")
endif()
# Everything is filled in now but the prefix, which stays @WEFT_PC_PREFIX@
# for the install-time step below to fill in.
set(WEFT_PC_PREFIX "@WEFT_PC_PREFIX@")
configure_file("${PROJECT_SOURCE_DIR}/cmake/weft.pc.in"
  "${PROJECT_BINARY_DIR}/weft.pc.in" @ONLY)
set(weft_pc_names weft)
if(TARGET weft_mpi)
  # weft/mpi.h names no MPI type, so a consumer needs no MPI flags to
  # compile; a static libweft_mpi needs MPI's libraries to link.
  string(REPLACE ";" " " weft_mpi_link "${MPI_C_LIBRARIES}")
  if(WEFT_SHARED)
    set(WEFT_MPI_PC_LIBS "")
    set(WEFT_MPI_PC_LIBS_PRIVATE "${weft_mpi_link}")
  else()
    set(WEFT_MPI_PC_LIBS " ${weft_mpi_link}")
    set(WEFT_MPI_PC_LIBS_PRIVATE "")
  endif()
  configure_file("${PROJECT_SOURCE_DIR}/cmake/weft-mpi.pc.in"
    "${PROJECT_BINARY_DIR}/weft-mpi.pc.in" @ONLY)
  list(APPEND weft_pc_names weft-mpi)
endif()
foreach(pc IN LISTS weft_pc_names)
  install(CODE "
    set(WEFT_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${PROJECT_BINARY_DIR}/${pc}.pc.in\"
      \"${PROJECT_BINARY_DIR}/install-pc/${pc}.pc\" @ONLY)
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\"
      TYPE FILE FILES \"${PROJECT_BINARY_DIR}/install-pc/${pc}.pc\")
  ")
endforeach()
