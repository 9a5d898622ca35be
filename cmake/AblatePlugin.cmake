# ablate_add_plugin(NAME SOURCES...): one plugin, NAME.so, from its sources. The same function
# builds the plugins in this tree (plugins/CMakeLists.txt) and out of tree, where
# find_package(ablate) brings it (docs/PLUGINS.md).
#
# The target is plugin_NAME (CMake reserves some plain names, such as "all"). It links ablate::sdk,
# which carries the include path, C++20 and the compile definitions and -march the host was built
# with: the plugin's ABI stamp (ablate/plugin.hpp) then matches the host's. Symbols are hidden but
# the three ABLATE_PLUGIN exports. The .so lands in ABLATE_PLUGIN_OUTPUT_DIR if set (the build
# tree's plugin folder), and installs to <prefix>/<libdir>/ablate/plugins: where a host installed
# in the same prefix looks first.
include_guard(GLOBAL)
include(GNUInstallDirs)

function(ablate_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "ablate_add_plugin(${name}): no sources given")
  endif()
  set(target plugin_${name})
  add_library(${target} MODULE ${ARGN})
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    # Installed beside libablate (<libdir>/ablate/plugins): it finds it two folders up.
    INSTALL_RPATH "$ORIGIN/../..")
  if(ABLATE_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ABLATE_PLUGIN_OUTPUT_DIR})
  endif()
  target_link_libraries(${target} PRIVATE ablate::sdk)
  install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/ablate/plugins)
  set_property(GLOBAL APPEND PROPERTY ABLATE_PLUGIN_TARGETS ${target})
endfunction()
