# DistBuild.cmake: one include() sends every C and C++ compile, link and archive through distbuild.
#
# Usage, after project():
#   include(/path/to/distbuild/cmake/DistBuild.cmake)
# or without touching CMakeLists.txt:
#   cmake -DCMAKE_PROJECT_INCLUDE=/path/to/distbuild/cmake/DistBuild.cmake …
#
# Cache variables (each falls back to the DISTBUILD_* environment variable and then to
# distbuild's own config file and defaults, so leaving them empty is fine):
#   DISTBUILD_ENABLE       ON   use the farm at all
#   DISTBUILD_EXECUTABLE        the distbuild command (default: `distbuild` on PATH, else this checkout's bin/distbuild)
#   DISTBUILD_SERVER_ADDR       HOST:PORT of the server            (--server-addr)
#   DISTBUILD_FS_MOUNT          this host's path to the shared mount (--fs-mount)
#   DISTBUILD_VERBOSE      OFF  print where each job ran            (--verbose)
#   DISTBUILD_EXTRA_ARGS        more launcher flags, a ;-list
#   DISTBUILD_ARCHIVES     ON   also run static-library archiving (ar, ranlib) on the farm
# Works with the Ninja and Unix Makefiles generators (CMake >= 3.21 for link launchers).

# Included into projects of any age: use modern policies here, whatever the project's.
cmake_policy(PUSH)
cmake_policy(VERSION 3.13...3.28)

option(DISTBUILD_ENABLE "Send compiles and links through distbuild" ON)
option(DISTBUILD_VERBOSE "distbuild launchers print where each job ran" OFF)
option(DISTBUILD_ARCHIVES "Run static-library archiving (ar, ranlib) on the farm too" ON)
set(DISTBUILD_SERVER_ADDR "$ENV{DISTBUILD_SERVER_ADDR}" CACHE STRING "distbuild server HOST:PORT (empty: env, config file or default)")
set(DISTBUILD_FS_MOUNT "$ENV{DISTBUILD_FS_MOUNT}" CACHE PATH "This host's path to the shared mount (empty: env, config file or default)")
set(DISTBUILD_EXTRA_ARGS "" CACHE STRING "Extra distbuild launcher flags, a ;-separated list")

if(NOT DISTBUILD_EXECUTABLE)
  find_program(_distbuild_on_path distbuild)
  if(_distbuild_on_path)
    set(_distbuild_default "${_distbuild_on_path}")
  else()
    get_filename_component(_distbuild_default "${CMAKE_CURRENT_LIST_DIR}/../bin/distbuild" ABSOLUTE)
  endif()
  set(DISTBUILD_EXECUTABLE "${_distbuild_default}" CACHE FILEPATH "The distbuild command")
endif()

# What each job runs: the native client (built at install into dist/native/, next to the real
# bin/ of DISTBUILD_EXECUTABLE), which costs a job about a millisecond; else bin/distbuild-launch,
# which starts the Node launcher without NODE_EXTRA_CA_CERTS; else DISTBUILD_EXECUTABLE itself.
# A DISTBUILD_EXECUTABLE of bin/distbuild.cjs or bin/distbuild-launch asks for the Node launcher.
get_filename_component(_distbuild_real "${DISTBUILD_EXECUTABLE}" REALPATH)
get_filename_component(_distbuild_dir "${_distbuild_real}" DIRECTORY)
get_filename_component(_distbuild_native "${_distbuild_dir}/../dist/native/distbuild" ABSOLUTE)
set(_distbuild_magic "")
if(EXISTS "${_distbuild_real}" AND NOT IS_DIRECTORY "${_distbuild_real}")
  file(READ "${_distbuild_real}" _distbuild_magic LIMIT 4 HEX)
endif()
if(_distbuild_real MATCHES "/distbuild(\\.cjs|-launch)$")
  # The Node launcher, chosen by name.
  set(_distbuild_launch "${_distbuild_dir}/distbuild-launch")
elseif(EXISTS "${_distbuild_native}")
  set(_distbuild_launch "${_distbuild_native}")
elseif(_distbuild_magic STREQUAL "7f454c46")
  set(_distbuild_launch "${_distbuild_real}")
elseif(EXISTS "${_distbuild_dir}/distbuild-launch")
  set(_distbuild_launch "${_distbuild_dir}/distbuild-launch")
else()
  set(_distbuild_launch "${DISTBUILD_EXECUTABLE}")
endif()

if(DISTBUILD_ENABLE)
  if(CMAKE_VERSION VERSION_LESS 3.21)
    message(WARNING "distbuild: CMake ${CMAKE_VERSION} has no link launchers (3.21+); only compiles use the farm")
  endif()
  if(NOT EXISTS "${DISTBUILD_EXECUTABLE}")
    message(FATAL_ERROR "distbuild: DISTBUILD_EXECUTABLE=${DISTBUILD_EXECUTABLE} does not exist; set it to the distbuild command")
  endif()
  set(_distbuild_flags "")
  if(DISTBUILD_SERVER_ADDR)
    list(APPEND _distbuild_flags "--server-addr=${DISTBUILD_SERVER_ADDR}")
  endif()
  if(DISTBUILD_FS_MOUNT)
    list(APPEND _distbuild_flags "--fs-mount=${DISTBUILD_FS_MOUNT}")
  endif()
  if(DISTBUILD_VERBOSE)
    list(APPEND _distbuild_flags "--verbose")
  endif()
  list(APPEND _distbuild_flags ${DISTBUILD_EXTRA_ARGS})

  # Both languages, enabled or not yet: a project may enable_language(CXX) later, and these
  # variables are read when targets are made (CMake's own rule defaults never override them).
  foreach(_lang C CXX)
    set(CMAKE_${_lang}_COMPILER_LAUNCHER "${_distbuild_launch};--compiler;${_distbuild_flags};--")
    set(CMAKE_${_lang}_LINKER_LAUNCHER "${_distbuild_launch};--linker;${_distbuild_flags};--")
    if(DISTBUILD_ARCHIVES)
      # Rule variables are command strings, not lists: quote each launcher argument.
      set(_distbuild_rule "\"${_distbuild_launch}\" --linker")
      foreach(_flag IN LISTS _distbuild_flags)
        string(APPEND _distbuild_rule " \"${_flag}\"")
      endforeach()
      string(APPEND _distbuild_rule " --")
      set(CMAKE_${_lang}_ARCHIVE_CREATE "${_distbuild_rule} <CMAKE_AR> qc <TARGET> <LINK_FLAGS> <OBJECTS>")
      set(CMAKE_${_lang}_ARCHIVE_APPEND "${_distbuild_rule} <CMAKE_AR> q <TARGET> <LINK_FLAGS> <OBJECTS>")
      set(CMAKE_${_lang}_ARCHIVE_FINISH "${_distbuild_rule} <CMAKE_RANLIB> <TARGET>")
    endif()
  endforeach()
  # A tree outside the mount builds every command locally: say so now, not silently per job.
  set(_distbuild_mount "${DISTBUILD_FS_MOUNT}")
  if(NOT _distbuild_mount)
    set(_distbuild_mount "$ENV{DISTBUILD_FS_MOUNT}")
  endif()
  if(_distbuild_mount)
    get_filename_component(_distbuild_real_mount "${_distbuild_mount}" REALPATH)
    foreach(_distbuild_tree IN ITEMS "${CMAKE_SOURCE_DIR}" "${CMAKE_BINARY_DIR}")
      get_filename_component(_distbuild_real_tree "${_distbuild_tree}" REALPATH)
      string(FIND "${_distbuild_real_tree}/" "${_distbuild_real_mount}/" _distbuild_at)
      if(NOT _distbuild_at EQUAL 0)
        message(WARNING "distbuild: ${_distbuild_tree} is outside the shared mount ${_distbuild_mount}: its commands will all build locally. Put the source and build trees on the mount, or set DISTBUILD_FS_MOUNT to this host's path to it.")
      endif()
    endforeach()
  endif()
  list(JOIN _distbuild_flags " " _distbuild_shown)
  message(STATUS "distbuild: compiles and links go through ${_distbuild_launch} ${_distbuild_shown}")
endif()

cmake_policy(POP)
