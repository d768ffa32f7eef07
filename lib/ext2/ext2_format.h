/*
 * ext2's on-disk structures.  All fields are little-endian; Pith and the
 * hosts it is built on are little-endian, so the structs are used as they
 * are, copied in and out of blocks with memcpy (never cast onto a buffer).
 */
#ifndef PITH_EXT2_FORMAT_H
#define PITH_EXT2_FORMAT_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ext2_format.h assumes a little-endian machine"
#endif

#define EXT2_MAGIC        0xEF53u
#define EXT2_VALID_FS     1u
#define EXT2_ERROR_FS     2u
#define EXT2_SB_OFFSET    1024u           /* bytes from the start of the device */
#define EXT2_GOOD_OLD_INODE_SIZE 128u
#define EXT2_GOOD_OLD_FIRST_INO  11u
#define EXT2_NDIR_BLOCKS  12u
#define EXT2_IND_BLOCK    12u
#define EXT2_DIND_BLOCK   13u
#define EXT2_TIND_BLOCK   14u
#define EXT2_N_BLOCKS     15u
#define EXT2_FAST_LINK_MAX 60u            /* bytes of i_block */

#define EXT2_FEATURE_COMPAT_EXT_ATTR       0x0008u
#define EXT2_FEATURE_COMPAT_DIR_INDEX      0x0020u

#define EXT2_FEATURE_INCOMPAT_COMPRESSION  0x0001u
#define EXT2_FEATURE_INCOMPAT_FILETYPE     0x0002u
#define EXT2_FEATURE_INCOMPAT_RECOVER      0x0004u
#define EXT2_FEATURE_INCOMPAT_JOURNAL_DEV  0x0008u
#define EXT2_FEATURE_INCOMPAT_META_BG      0x0010u
#define EXT2_FEATURE_INCOMPAT_EXTENTS      0x0040u
#define EXT2_FEATURE_INCOMPAT_64BIT        0x0080u
#define EXT2_FEATURE_INCOMPAT_FLEX_BG      0x0200u
#define EXT2_INCOMPAT_SUPPORTED (EXT2_FEATURE_INCOMPAT_FILETYPE | EXT2_FEATURE_INCOMPAT_FLEX_BG)

#define EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER 0x0001u
#define EXT2_FEATURE_RO_COMPAT_LARGE_FILE   0x0002u
#define EXT2_FEATURE_RO_COMPAT_BTREE_DIR    0x0004u   /* never used by anyone */
#define EXT2_RO_COMPAT_SUPPORTED (EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | \
                                  EXT2_FEATURE_RO_COMPAT_LARGE_FILE | \
                                  EXT2_FEATURE_RO_COMPAT_BTREE_DIR)

#define EXT2_INDEX_FL     0x00001000u         /* htree-indexed directory */

struct ext2_super {
    uint32_t s_inodes_count;
    uint32_t s_blocks_count;
    uint32_t s_r_blocks_count;
    uint32_t s_free_blocks_count;
    uint32_t s_free_inodes_count;
    uint32_t s_first_data_block;
    uint32_t s_log_block_size;
    uint32_t s_log_frag_size;
    uint32_t s_blocks_per_group;
    uint32_t s_frags_per_group;
    uint32_t s_inodes_per_group;
    uint32_t s_mtime;
    uint32_t s_wtime;
    uint16_t s_mnt_count;
    int16_t  s_max_mnt_count;
    uint16_t s_magic;
    uint16_t s_state;
    uint16_t s_errors;
    uint16_t s_minor_rev_level;
    uint32_t s_lastcheck;
    uint32_t s_checkinterval;
    uint32_t s_creator_os;
    uint32_t s_rev_level;
    uint16_t s_def_resuid;
    uint16_t s_def_resgid;
    /* revision 1 */
    uint32_t s_first_ino;
    uint16_t s_inode_size;
    uint16_t s_block_group_nr;
    uint32_t s_feature_compat;
    uint32_t s_feature_incompat;
    uint32_t s_feature_ro_compat;
    uint8_t  s_uuid[16];
    char     s_volume_name[16];
    char     s_last_mounted[64];
    uint32_t s_algorithm_usage_bitmap;
    uint8_t  s_prealloc_blocks;
    uint8_t  s_prealloc_dir_blocks;
    uint16_t s_padding1;
    uint8_t  s_journal_uuid[16];
    uint32_t s_journal_inum;
    uint32_t s_journal_dev;
    uint32_t s_last_orphan;
    uint32_t s_hash_seed[4];
    uint8_t  s_def_hash_version;
    uint8_t  s_jnl_backup_type;
    uint16_t s_desc_size;
    uint32_t s_default_mount_opts;
    uint32_t s_first_meta_bg;
    uint32_t s_mkfs_time;
    uint8_t  s_rest[1024 - 268];
};
_Static_assert(sizeof(struct ext2_super) == 1024, "superblock is 1024 bytes");

struct ext2_group_desc {
    uint32_t bg_block_bitmap;
    uint32_t bg_inode_bitmap;
    uint32_t bg_inode_table;
    uint16_t bg_free_blocks_count;
    uint16_t bg_free_inodes_count;
    uint16_t bg_used_dirs_count;
    uint16_t bg_flags;
    uint32_t bg_reserved[3];
};
_Static_assert(sizeof(struct ext2_group_desc) == 32, "group descriptor is 32 bytes");

/* The first 128 bytes of an inode; larger inodes keep the rest as found. */
struct ext2_inode {
    uint16_t i_mode;
    uint16_t i_uid;
    uint32_t i_size;
    uint32_t i_atime;
    uint32_t i_ctime;
    uint32_t i_mtime;
    uint32_t i_dtime;
    uint16_t i_gid;
    uint16_t i_links_count;
    uint32_t i_blocks;                    /* 512-byte units */
    uint32_t i_flags;
    uint32_t i_osd1;
    uint32_t i_block[EXT2_N_BLOCKS];
    uint32_t i_generation;
    uint32_t i_file_acl;                  /* extended-attribute block */
    uint32_t i_size_high;                 /* regular files; i_dir_acl otherwise */
    uint32_t i_faddr;
    uint16_t i_blocks_hi;
    uint16_t i_file_acl_high;
    uint16_t i_uid_high;
    uint16_t i_gid_high;
    uint16_t i_checksum_lo;
    uint16_t i_reserved;
};
_Static_assert(sizeof(struct ext2_inode) == 128, "inode core is 128 bytes");

/* A directory entry's fixed part; the name follows. */
struct ext2_dirent_head {
    uint32_t inode;
    uint16_t rec_len;
    uint8_t  name_len;
    uint8_t  file_type;                   /* high byte of name_len without filetype */
};
_Static_assert(sizeof(struct ext2_dirent_head) == 8, "directory entry head is 8 bytes");

/* The smallest record that holds a name of n bytes. */
#define EXT2_DIR_REC_LEN(n) (((n) + 8u + 3u) & ~3u)

/* Header of an extended-attribute block (only its reference count is used). */
#define EXT2_XATTR_MAGIC 0xEA020000u

#endif
