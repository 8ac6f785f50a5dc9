# The version string (git describe) in a generated header, rewritten only when it changes:
# as a -D flag it reached only the objects rebuilt for other reasons, and a binary built
# after a commit could report the version of an older one.
VERSION_H := $(BUILD)/gen/pw_version.h

$(VERSION_H): version-check
	@:

.PHONY: version-check
version-check:
	@mkdir -p $(dir $(VERSION_H))
	@printf '#define PW_VERSION "%s"\n' '$(VERSION)' > $(VERSION_H).tmp
	@cmp -s $(VERSION_H).tmp $(VERSION_H) && rm -f $(VERSION_H).tmp || mv $(VERSION_H).tmp $(VERSION_H)

VERSION_USERS := src/cli src/server/metrics src/server/health
$(foreach d,obj san fuzzobj,$(VERSION_USERS:%=$(BUILD)/$(d)/%.o)): $(VERSION_H)
