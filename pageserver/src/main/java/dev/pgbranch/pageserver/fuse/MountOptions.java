package dev.pgbranch.pageserver.fuse;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a timeline is mounted.
 *
 * @param ownerUid uid reported as owner of the mount's root directory (Postgres requires its data
 *     directory to be owned by the user it runs as)
 * @param ownerGid gid reported for the root directory
 * @param allowOther let users other than the mounting one use the mount ({@code allow_other});
 *     needed when the pageserver runs as root and the compute as {@code postgres}
 * @param capacityFrom a directory whose filesystem's size and free space {@code statfs} reports
 *     (the store's disk); empty reports a fixed large capacity
 */
public record MountOptions(int ownerUid, int ownerGid, boolean allowOther, Optional<Path> capacityFrom) {

    public MountOptions {
        if (ownerUid < 0 || ownerGid < 0) {
            throw new IllegalArgumentException("negative owner " + ownerUid + ":" + ownerGid);
        }
        Objects.requireNonNull(capacityFrom, "capacityFrom");
    }

    /**
     * Root owned by {@code uid}/{@code gid}; {@code allow_other} exactly when the mounting process is
     * root and the owner is someone else.
     */
    public static MountOptions ownedBy(int uid, int gid) {
        int self = ProcessIdentity.effectiveUid();
        return new MountOptions(uid, gid, self == 0 && uid != 0, Optional.empty());
    }

    public MountOptions withCapacityFrom(Path directory) {
        return new MountOptions(ownerUid, ownerGid, allowOther, Optional.of(directory));
    }
}
