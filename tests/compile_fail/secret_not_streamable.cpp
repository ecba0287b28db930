// expect: deleted|delete
#include <mailauth/secret.hpp>
#include <sstream>

int main()
{
    std::ostringstream os;
    mailauth::secret s{"token"};
    os << s;
}
