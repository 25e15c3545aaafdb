/* Tests for the common part: l4mm_strerror and the version header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <l4mm/status.h>
#include <l4mm/types.h>
#include <l4mm/version.h>

static void test_strerror_is_distinct_and_never_null(void **state)
{
    (void)state;
    const char *seen[L4MM_ECORRUPT + 1];
    for (int s = L4MM_OK; s <= L4MM_ECORRUPT; s++) {
        seen[s] = l4mm_strerror((l4mm_status)s);
        assert_non_null(seen[s]);
        assert_true(strlen(seen[s]) > 0);
        for (int t = 0; t < s; t++)
            assert_string_not_equal(seen[s], seen[t]);
    }
}

static void test_strerror_of_unknown_value_is_not_null(void **state)
{
    (void)state;
    assert_string_equal(l4mm_strerror((l4mm_status)(L4MM_ECORRUPT + 1)), "unknown status");
    assert_string_equal(l4mm_strerror((l4mm_status)-1), "unknown status");
}

static void test_version_string_matches_numbers(void **state)
{
    (void)state;
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", L4MM_VERSION_MAJOR, L4MM_VERSION_MINOR,
             L4MM_VERSION_PATCH);
    assert_string_equal(buf, L4MM_VERSION_STRING);
}

/* The numeric values are ABI: a kernel may pass them across a system call boundary. */
static void test_status_values_are_the_contract_order(void **state)
{
    (void)state;
    static const l4mm_status order[] = { L4MM_OK,     L4MM_EINVAL,  L4MM_ENOMEM,
                                         L4MM_ENOENT, L4MM_EPERM,   L4MM_EBUSY,
                                         L4MM_EAGAIN, L4MM_EDECODE, L4MM_ECORRUPT };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        assert_int_equal((int)order[i], (int)i);
}

static void test_rights_use_x2_fpage_bit_order(void **state)
{
    (void)state;
    assert_int_equal(L4MM_X, 1);
    assert_int_equal(L4MM_W, 2);
    assert_int_equal(L4MM_R, 4);
    assert_int_equal(L4MM_RWX, L4MM_R | L4MM_W | L4MM_X);
}

static void test_addr_is_unsigned_64_bit_on_every_target(void **state)
{
    (void)state;
    l4mm_addr_t a = 0;
    assert_int_equal(sizeof(l4mm_addr_t), 8);
    a -= 1; /* wraps: unsigned */
    assert_true(a == UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_is_distinct_and_never_null),
        cmocka_unit_test(test_strerror_of_unknown_value_is_not_null),
        cmocka_unit_test(test_version_string_matches_numbers),
        cmocka_unit_test(test_status_values_are_the_contract_order),
        cmocka_unit_test(test_rights_use_x2_fpage_bit_order),
        cmocka_unit_test(test_addr_is_unsigned_64_bit_on_every_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
