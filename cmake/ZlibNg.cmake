# Finds or builds zlib-ng (native zng_ API, static) and sets GEOTFRECORD_ZLIB_NG_TARGET.
#
# Order: 1. an installed zlib-ng found by CMake (find_package(zlib-ng CONFIG));
#        2. a source tree named by -DGEOTFRECORD_ZLIB_NG_SOURCE=... or the environment variable of
#           the same name (offline builds);
#        3. the pinned `zlib-ng` sdist from the Python package index, fetched with pip at configure
#           time and checked against its SHA-256; its tarball carries the complete zlib-ng C sources.
# No library source is committed to this repository.

set(GEOTFRECORD_ZLIB_NG_SDIST_VERSION "1.1.0")
set(GEOTFRECORD_ZLIB_NG_SDIST_SHA256 "08a3a8468d4f130e3dc80d28ec42fcc7a878a57dfed616233e791066327d78a3")
set(GEOTFRECORD_ZLIB_NG_SOURCE "$ENV{GEOTFRECORD_ZLIB_NG_SOURCE}" CACHE PATH "zlib-ng source tree to build instead of fetching one")
option(GEOTFRECORD_USE_SYSTEM_ZLIB_NG "Use an installed zlib-ng when CMake finds one" ON)

set(GEOTFRECORD_ZLIB_NG_TARGET "")
if(GEOTFRECORD_USE_SYSTEM_ZLIB_NG AND NOT GEOTFRECORD_ZLIB_NG_SOURCE)
  find_package(zlib-ng CONFIG QUIET)
  if(TARGET zlib-ng::zlibstatic)
    set(GEOTFRECORD_ZLIB_NG_TARGET zlib-ng::zlibstatic)
  elseif(TARGET zlib-ng::zlib)
    set(GEOTFRECORD_ZLIB_NG_TARGET zlib-ng::zlib)
  endif()
  if(GEOTFRECORD_ZLIB_NG_TARGET)
    set(GEOTFRECORD_ZLIB_NG_ORIGIN "installed")
    message(STATUS "geotfrecord: using installed zlib-ng (${GEOTFRECORD_ZLIB_NG_TARGET})")
    return()
  endif()
endif()

if(GEOTFRECORD_ZLIB_NG_SOURCE)
  set(_zng_src "${GEOTFRECORD_ZLIB_NG_SOURCE}")
  set(GEOTFRECORD_ZLIB_NG_ORIGIN "source tree")
else()
  set(_zng_dl "${CMAKE_BINARY_DIR}/_deps/zlib-ng-sdist")
  set(_zng_tarball "${_zng_dl}/zlib_ng-${GEOTFRECORD_ZLIB_NG_SDIST_VERSION}.tar.gz")
  if(NOT EXISTS "${_zng_tarball}")
    find_package(Python COMPONENTS Interpreter REQUIRED)
    message(STATUS "geotfrecord: fetching zlib-ng sources (PyPI sdist zlib-ng==${GEOTFRECORD_ZLIB_NG_SDIST_VERSION})")
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -m pip download --no-deps --no-binary :all:
              --disable-pip-version-check -d "${_zng_dl}" "zlib-ng==${GEOTFRECORD_ZLIB_NG_SDIST_VERSION}"
      RESULT_VARIABLE _zng_rc OUTPUT_VARIABLE _zng_out ERROR_VARIABLE _zng_err)
    if(NOT _zng_rc EQUAL 0 OR NOT EXISTS "${_zng_tarball}")
      message(FATAL_ERROR "geotfrecord: could not fetch the zlib-ng sdist with pip (${_zng_rc}):\n${_zng_out}\n${_zng_err}\n"
                          "Build offline with -DGEOTFRECORD_ZLIB_NG_SOURCE=/path/to/zlib-ng (or the environment variable).")
    endif()
  endif()
  file(SHA256 "${_zng_tarball}" _zng_sha)
  if(NOT _zng_sha STREQUAL GEOTFRECORD_ZLIB_NG_SDIST_SHA256)
    message(FATAL_ERROR "geotfrecord: ${_zng_tarball} has SHA-256 ${_zng_sha}, expected ${GEOTFRECORD_ZLIB_NG_SDIST_SHA256}")
  endif()
  set(_zng_unpacked "${_zng_dl}/unpacked")
  if(NOT EXISTS "${_zng_unpacked}/zlib_ng-${GEOTFRECORD_ZLIB_NG_SDIST_VERSION}")
    file(ARCHIVE_EXTRACT INPUT "${_zng_tarball}" DESTINATION "${_zng_unpacked}")
  endif()
  set(_zng_src "${_zng_unpacked}/zlib_ng-${GEOTFRECORD_ZLIB_NG_SDIST_VERSION}/src/zlib_ng/zlib-ng")
  set(GEOTFRECORD_ZLIB_NG_ORIGIN "PyPI sdist zlib-ng ${GEOTFRECORD_ZLIB_NG_SDIST_VERSION}")
endif()

if(NOT EXISTS "${_zng_src}/zlib-ng.h.in")
  message(FATAL_ERROR "geotfrecord: ${_zng_src} is not a zlib-ng source tree (no zlib-ng.h.in)")
endif()

# Static, native API, nothing else: no tests, no gz* file functions, no install rules.
set(ZLIB_COMPAT OFF CACHE BOOL "" FORCE)
set(ZLIB_ENABLE_TESTS OFF CACHE BOOL "" FORCE)
set(ZLIBNG_ENABLE_TESTS OFF CACHE BOOL "" FORCE)
set(BUILD_TESTING OFF CACHE BOOL "" FORCE)
set(WITH_GTEST OFF CACHE BOOL "" FORCE)
set(WITH_GZFILEOP OFF CACHE BOOL "" FORCE)
set(WITH_NATIVE_INSTRUCTIONS OFF CACHE BOOL "" FORCE)
set(SKIP_INSTALL_ALL ON CACHE BOOL "" FORCE)
set(_geotfrecord_saved_shared ${BUILD_SHARED_LIBS})
set(BUILD_SHARED_LIBS OFF)
add_subdirectory("${_zng_src}" "${CMAKE_BINARY_DIR}/_deps/zlib-ng-build" EXCLUDE_FROM_ALL SYSTEM)
set(BUILD_SHARED_LIBS ${_geotfrecord_saved_shared})
set_target_properties(zlib-ng PROPERTIES POSITION_INDEPENDENT_CODE ON)
set(GEOTFRECORD_ZLIB_NG_TARGET zlib-ng)
message(STATUS "geotfrecord: building zlib-ng from ${_zng_src}")
