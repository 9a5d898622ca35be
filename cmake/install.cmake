# `cmake --install build --prefix P` (DESTDIR honoured): the host, libablate, the SDK headers, the
# plugins (plugins/CMakeLists.txt) and the CMake package an out-of-tree plugin finds with
# find_package(ablate 0.1 REQUIRED) (docs/PLUGINS.md). Every destination is relative to the prefix.
include(CMakePackageConfigHelpers)
set(ABLATE_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ablate)

install(TARGETS ablate ablate_core EXPORT ablateTargets)
install(DIRECTORY framework/include/ablate DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT ablateTargets NAMESPACE ablate:: DESTINATION ${ABLATE_CMAKE_INSTALL_DIR})

configure_package_config_file(cmake/ablateConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ablateConfig.cmake
  INSTALL_DESTINATION ${ABLATE_CMAKE_INSTALL_DIR}
  PATH_VARS ABLATE_PLUGIN_INSTALL_DIR)
# 0.x: a new minor version may change the SDK, so 0.1 accepts 0.1.* only.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ablateConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ablateConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/ablateConfigVersion.cmake
              cmake/AblatePlugin.cmake
        DESTINATION ${ABLATE_CMAKE_INSTALL_DIR})
