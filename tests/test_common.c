/* Tests for the common part: l4mm_strerror and the version header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <l4mm/status.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_is_distinct_and_never_null),
        cmocka_unit_test(test_strerror_of_unknown_value_is_not_null),
        cmocka_unit_test(test_version_string_matches_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
