# SPDX-License-Identifier: GPL-2.0
# Robustness (included by the top Makefile):
#   make robustness-tools   helper programs of tests/integration/85-89

ROBUST_TOOLS := tests/robustness/rule_race

.PHONY: robustness-tools
robustness-tools: $(ROBUST_TOOLS)

tests/robustness/rule_race: tests/robustness/rule_race.c $(TEST_COMMON_OBJS) $(LIB_A) \
			    $(LIB_HDRS) $(SKEL) config.mk
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(TEST_COMMON_OBJS) $(LIB_A) $(LDFLAGS) \
		$(LDLIBS) -lpthread

clean::
	rm -f $(ROBUST_TOOLS)
