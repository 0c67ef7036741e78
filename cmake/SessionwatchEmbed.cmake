# sw_embed(TARGET VAR FILE): compiles FILE's bytes into TARGET as
#   extern const std::string_view VAR;   (namespace sw::embedded)
# so the binary carries its defaults (sample events, error catalog, logsource map, rules).
function(sw_embed target var file)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embed_${var}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DVAR=${var}
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake
    COMMENT "Embedding ${file}")
  target_sources(${target} PRIVATE ${out})
endfunction()
