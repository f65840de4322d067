# Generates a C++ source holding migration SQL files as string literals.
# Invoked as: cmake -DOUT=file.cc -DFILES="a;b;c" -P embed_migrations.cmake
# Each file is named <dialect>/<NNNN>_<name>.<up|down>.sql.
set(body "// Generated from src/storage/migrations by cmake/embed_migrations.cmake. Do not edit.\n")
string(APPEND body "#include \"storage/migrations/embedded.h\"\n\nnamespace pixvault::storage {\n\n")
string(APPEND body "const std::vector<EmbeddedSqlFile>& EmbeddedMigrationFiles() {\n")
string(APPEND body "  static const std::vector<EmbeddedSqlFile> kFiles = {\n")
foreach(f IN LISTS FILES)
  file(READ "${f}" content)
  get_filename_component(name "${f}" NAME)
  get_filename_component(dir "${f}" DIRECTORY)
  get_filename_component(dialect "${dir}" NAME)
  string(APPEND body "      {\"${dialect}\", \"${name}\", R\"pxvsql(${content})pxvsql\"},\n")
endforeach()
string(APPEND body "  };\n  return kFiles;\n}\n\n}  // namespace pixvault::storage\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
