// cxx-probe.cc - built with g++ on the host (libstdc++ and libgcc_s linked
// dynamically), run in the cc image: an exception thrown through a frame and
// caught (needs libgcc_s's unwinder) and iostream output.
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

[[gnu::noinline]] static int thrower(int n)
{
	if (n > 2)
		throw std::runtime_error("caught " + std::to_string(n));
	return n;
}

int main()
{
	std::vector<int> v{1, 2, 3};
	try {
		for (int x : v)
			thrower(x);
	} catch (const std::exception &e) {
		std::cout << e.what() << " ok" << std::endl;
		return 0;
	}
	std::cout << "no exception" << std::endl;
	return 1;
}
