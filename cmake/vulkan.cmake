# The Vulkan backend (src/backends/vulkan) as the module lokal_backends_vulkan. It needs the
# Vulkan headers and glslc at build time only: the loader (libvulkan.so.1) is opened at run time,
# so a binary built with the backend still starts, and runs on the CPU, on a machine without it.
# LOKAL_VULKAN=AUTO builds it when both are found, ON requires them, OFF skips it.
if(LOKAL_VULKAN STREQUAL "OFF")
  return()
endif()

find_path(LOKAL_VULKAN_INCLUDE_DIR vulkan/vulkan.h)
find_program(LOKAL_GLSLC glslc)
if(NOT LOKAL_VULKAN_INCLUDE_DIR OR NOT LOKAL_GLSLC)
  set(why "needs the Vulkan headers and glslc (Debian: libvulkan-dev glslc; scripts/setup installs them)")
  if(LOKAL_VULKAN STREQUAL "ON")
    message(FATAL_ERROR "LOKAL_VULKAN=ON ${why}")
  endif()
  message(STATUS "Vulkan backend off: it ${why}")
  return()
endif()
message(STATUS "Vulkan backend on (glslc: ${LOKAL_GLSLC})")

set(shader_dir ${CMAKE_SOURCE_DIR}/src/backends/vulkan/shaders)
set(spv_dir ${CMAKE_BINARY_DIR}/shaders)
file(GLOB shader_sources CONFIGURE_DEPENDS ${shader_dir}/*.comp)
file(GLOB shader_includes CONFIGURE_DEPENDS ${shader_dir}/*.glsl)
set(spv_files "")
# A shader whose source has a line "// lokal-variants: a b" is also built once per variant with
# VARIANT_A (VARIANT_B, ...) defined, embedded as <stem>_a (<stem>_b, ...).
foreach(src ${shader_sources})
  get_filename_component(stem ${src} NAME_WE)
  file(STRINGS ${src} variant_line REGEX "^// lokal-variants:")
  string(REGEX REPLACE "^// lokal-variants:" "" variants "${variant_line}")
  separate_arguments(variants)
  foreach(variant "" ${variants})
    if(variant STREQUAL "")
      set(name ${stem})
      set(define "")
    else()
      set(name ${stem}_${variant})
      string(TOUPPER "VARIANT_${variant}" define)
      set(define "-D${define}")
    endif()
    set(spv ${spv_dir}/${name}.spv)
    # Vulkan 1.1 SPIR-V: what every device with a Vulkan 1.1 driver (2018 on) runs.
    add_custom_command(
      OUTPUT ${spv}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${spv_dir}
      COMMAND ${LOKAL_GLSLC} --target-env=vulkan1.1 -O -Werror ${define} -I ${shader_dir} -o ${spv}
              ${src}
      DEPENDS ${src} ${shader_includes}
      COMMENT "glslc ${name}"
      VERBATIM)
    list(APPEND spv_files ${spv})
  endforeach()
endforeach()

set(embedded ${CMAKE_BINARY_DIR}/generated/shader_spirv_data.cpp)
add_custom_command(
  OUTPUT ${embedded}
  COMMAND ${CMAKE_COMMAND} "-DINPUTS=${spv_files}" -DOUT=${embedded}
          -P ${CMAKE_SOURCE_DIR}/cmake/embed_spirv.cmake
  DEPENDS ${spv_files} ${CMAKE_SOURCE_DIR}/cmake/embed_spirv.cmake
  COMMENT "Embedding ${CMAKE_BINARY_DIR}/shaders/*.spv"
  VERBATIM)

lokal_module(backends/vulkan DEPS lokal_backends ${CMAKE_DL_LIBS} SOURCES ${embedded})
target_include_directories(lokal_backends_vulkan SYSTEM PUBLIC ${LOKAL_VULKAN_INCLUDE_DIR})
# The loader is opened at run time (loader.cpp): no prototypes, only function pointer types.
target_compile_definitions(lokal_backends_vulkan PUBLIC VK_NO_PROTOTYPES)

