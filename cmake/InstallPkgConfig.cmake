# Installs the pkg-config files (run by `cmake --install`, see install(CODE) in the
# top-level CMakeLists.txt). Written at install time because only then is the prefix
# known (`cmake --install build --prefix DIR` and `make install PREFIX=DIR` change it).
#
# Each file in PB_PC_FILES (configured at build time) holds the marks @PB_PC_PREFIX@,
# replaced here by the prefix, and @PB_PC_RPATH@, replaced by "-Wl,-rpath,${libdir} "
# unless the installed libdir is one that the linker and the dynamic loader search by
# default (/usr/lib, /lib, their lib64 and multiarch forms), where a run path is useless.
#
# Inputs: CMAKE_INSTALL_PREFIX (set by cmake --install), PB_PC_FILES, PB_PC_LIBDIR
# (CMAKE_INSTALL_LIBDIR, relative or absolute), PB_PC_STAGE (a scratch folder),
# PB_LIBRARY_ARCHITECTURE (CMAKE_LIBRARY_ARCHITECTURE, may be empty).
cmake_policy(VERSION 3.20) # include() gave this file its own policy scope

set(_pb_prefix "${CMAKE_INSTALL_PREFIX}")
cmake_path(ABSOLUTE_PATH _pb_prefix NORMALIZE)
string(REGEX REPLACE "(.)/$" "\\1" _pb_prefix "${_pb_prefix}")
if(IS_ABSOLUTE "${PB_PC_LIBDIR}")
  set(_pb_libdir "${PB_PC_LIBDIR}")
else()
  set(_pb_libdir "${_pb_prefix}/${PB_PC_LIBDIR}")
endif()
cmake_path(NORMAL_PATH _pb_libdir)
string(REGEX REPLACE "(.)/$" "\\1" _pb_libdir "${_pb_libdir}")

set(_pb_system_libdirs /lib /lib64 /usr/lib /usr/lib64)
if(PB_LIBRARY_ARCHITECTURE)
  list(APPEND _pb_system_libdirs "/lib/${PB_LIBRARY_ARCHITECTURE}"
       "/usr/lib/${PB_LIBRARY_ARCHITECTURE}")
endif()

if(_pb_libdir IN_LIST _pb_system_libdirs)
  set(_pb_rpath "")
else()
  set(_pb_rpath "-Wl,-rpath,\${libdir} ")
endif()

file(MAKE_DIRECTORY "${PB_PC_STAGE}")
foreach(_pb_in IN LISTS PB_PC_FILES)
  get_filename_component(_pb_name "${_pb_in}" NAME)
  file(READ "${_pb_in}" _pb_text)
  string(REPLACE "@PB_PC_RPATH@" "${_pb_rpath}" _pb_text "${_pb_text}")
  string(REPLACE "@PB_PC_PREFIX@" "${_pb_prefix}" _pb_text "${_pb_text}")
  file(WRITE "${PB_PC_STAGE}/${_pb_name}" "${_pb_text}")
  # file(INSTALL) honours DESTDIR and records the file in install_manifest.txt.
  file(INSTALL "${PB_PC_STAGE}/${_pb_name}" DESTINATION "${_pb_libdir}/pkgconfig")
endforeach()
