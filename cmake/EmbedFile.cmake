# Script mode: writes IN's bytes to OUT as sw::embedded::VAR (a std::string_view).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR size "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}
  "#include <string_view>\n"
  "namespace sw::embedded {\n"
  "static const unsigned char ${VAR}_bytes[] = {${bytes} 0};\n"
  "extern const std::string_view ${VAR};\n"
  "const std::string_view ${VAR}(reinterpret_cast<const char*>(${VAR}_bytes), ${size});\n"
  "}\n")
