# grok_embed_ui(<target> DIST <dir>)
#
# Makes a static library <target> whose generated source defines
# grok::api::embedded_ui_files() (src/api/ui_assets.h): every file under <dir> (a built
# web/dist), with its SHA-256 and, for text files, a gzip copy made at build time.
#
# The generator (cmake/embed_ui_generate.cmake) runs at BUILD time, on every build, from the
# custom target <target>_generate: a `npm run build` followed by `cmake --build` embeds the
# new UI without re-running cmake. It rewrites the generated source only when a file was
# added, removed or changed (each file's SHA-256 and size are in it), so an unchanged UI
# costs a glob and a hash per file, no compile and no link. The bytes go in with the
# assembler's .incbin from content-addressed copies under <binary dir>/<target>/files.
#
# A missing <dir> is not an error: the table is empty and `grok serve` answers / with a
# page saying how to build the UI. Limits (5,000 files, 64 MiB in all), a symlink or an
# unusable file name fail the build with a message naming the file.
function(grok_embed_ui target)
  cmake_parse_arguments(E "" "DIST" "" ${ARGN})
  if(NOT E_DIST)
    message(FATAL_ERROR "grok_embed_ui(${target}): DIST <dir> is required")
  endif()
  # The script beside this file, whichever directory calls the function.
  set(script ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_ui_generate.cmake)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${target})
  set(source ${out_dir}/ui_files.cpp)
  string(MAKE_C_IDENTIFIER "${target}" symbol_prefix)
  add_custom_target(${target}_generate
    COMMAND ${CMAKE_COMMAND} -DDIST=${E_DIST} -DOUT_DIR=${out_dir} -DOUTPUT=${source}
            -DSYMBOL_PREFIX=${symbol_prefix} -P ${script}
    BYPRODUCTS ${source}
    COMMENT "Embedding the web UI from ${E_DIST}"
    VERBATIM)
  add_library(${target} STATIC ${source})
  add_dependencies(${target} ${target}_generate)
  target_link_libraries(${target} PUBLIC grok_api_ui)
  # The .incbin'd copies are not dependencies of the compile: the hashes in the source are.
  set_source_files_properties(${source} PROPERTIES OBJECT_DEPENDS ${script})
endfunction()
