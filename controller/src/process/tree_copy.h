// process/tree_copy.h — internal: writing the private files a renderer reads.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "plumbline/core/error.h"

namespace plumbline {

// Creates `path` (it must not exist; a symlink there is not followed) holding `data`, mode
// 0600. Errors name `where` (the tree path it copies).
Status write_new_file(const std::filesystem::path& path, std::string_view data,
                      const std::string& where);

}  // namespace plumbline
