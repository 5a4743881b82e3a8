#pragma once

namespace lokal::cli {
int main(int argc, char** argv);
}
