// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Chama
/// @notice Savings groups ("chamas") that pool the chain's native coin. Anyone can create a
/// chama and becomes its admin; anyone can contribute; only the admin pays out, and never
/// more than the chama holds.
/// @dev Every state change emits exactly one event, and the views below expose every running
/// total, so an indexer's derived tables can be reconciled against the contract at any block.
contract Chama {
    /// @notice Per-chama state.
    struct Group {
        address creator;
        string name;
        uint256 contributionAmount;
        uint256 totalContributed;
        uint256 totalPaidOut;
    }

    /// @notice Emitted once when a chama is created.
    /// @param chamaId Id of the new chama; ids start at 1.
    /// @param creator The account that created the chama and is its admin.
    /// @param name Display name given at creation.
    /// @param contributionAmount Minimum per contribution, in wei (0 = any positive amount).
    event ChamaCreated(uint256 indexed chamaId, address indexed creator, string name, uint256 contributionAmount);

    /// @notice Emitted for every contribution.
    /// @param chamaId The chama contributed to.
    /// @param contributor The account that sent the coin.
    /// @param amount The amount contributed, in wei.
    /// @param timestamp The block timestamp of the contribution.
    event ContributionMade(uint256 indexed chamaId, address indexed contributor, uint256 amount, uint256 timestamp);

    /// @notice Emitted for every payout.
    /// @param chamaId The chama paying out.
    /// @param recipient The account that received the coin.
    /// @param amount The amount paid, in wei.
    /// @param timestamp The block timestamp of the payout.
    event PayoutProcessed(uint256 indexed chamaId, address indexed recipient, uint256 amount, uint256 timestamp);

    /// @notice The chama id does not exist.
    /// @param chamaId The id that was asked for.
    error UnknownChama(uint256 chamaId);

    /// @notice A contribution or payout of zero.
    error ZeroAmount();

    /// @notice A contribution below the chama's minimum.
    /// @param amount The amount sent.
    /// @param minimum The chama's contributionAmount.
    error BelowMinimum(uint256 amount, uint256 minimum);

    /// @notice The caller is not the chama's admin.
    /// @param caller The account that called.
    /// @param admin The chama's admin.
    error NotAdmin(address caller, address admin);

    /// @notice A payout larger than the chama's balance.
    /// @param requested The amount asked for.
    /// @param available The chama's balance.
    error InsufficientBalance(uint256 requested, uint256 available);

    /// @notice A payout to the zero address.
    error ZeroRecipient();

    /// @notice The native transfer to the recipient failed.
    /// @param recipient The recipient that rejected the transfer.
    error TransferFailed(address recipient);

    /// @notice A reentrant call into payout.
    error Reentrancy();

    /// @notice A chama name of zero bytes.
    error EmptyName();

    /// @notice A chama name longer than MAX_NAME_BYTES.
    /// @param length The name's length in UTF-8 bytes.
    /// @param maxLength MAX_NAME_BYTES.
    error NameTooLong(uint256 length, uint256 maxLength);

    /// @notice The longest chama name createChama accepts, in UTF-8 bytes (not characters:
    /// "é" is 2 bytes, most emoji 4). Apps show names in lists, so a name must stay short.
    uint256 public constant MAX_NAME_BYTES = 64;

    uint256 private _chamaCount;
    uint256 private _locked = 1;
    mapping(uint256 chamaId => Group) private _chamas;
    mapping(uint256 chamaId => mapping(address member => uint256)) private _contributedBy;
    mapping(uint256 chamaId => mapping(address member => uint256)) private _receivedBy;

    modifier nonReentrant() {
        if (_locked != 1) revert Reentrancy();
        _locked = 2;
        _;
        _locked = 1;
    }

    /// @notice Creates a chama with the caller as its admin.
    /// @param name Display name: 1 to MAX_NAME_BYTES bytes of UTF-8.
    /// @param contributionAmount Minimum per contribution, in wei (0 = any positive amount).
    /// @return chamaId The id of the new chama (the first is 1).
    function createChama(string calldata name, uint256 contributionAmount) external returns (uint256 chamaId) {
        uint256 length = bytes(name).length;
        if (length == 0) revert EmptyName();
        if (length > MAX_NAME_BYTES) revert NameTooLong(length, MAX_NAME_BYTES);
        chamaId = ++_chamaCount;
        Group storage group = _chamas[chamaId];
        group.creator = msg.sender;
        group.name = name;
        group.contributionAmount = contributionAmount;
        emit ChamaCreated(chamaId, msg.sender, name, contributionAmount);
    }

    /// @notice Contributes `msg.value` to a chama.
    /// @param chamaId The chama to contribute to.
    function contribute(uint256 chamaId) external payable {
        Group storage group = _existing(chamaId);
        if (msg.value == 0) revert ZeroAmount();
        if (msg.value < group.contributionAmount) revert BelowMinimum(msg.value, group.contributionAmount);
        group.totalContributed += msg.value;
        _contributedBy[chamaId][msg.sender] += msg.value;
        emit ContributionMade(chamaId, msg.sender, msg.value, block.timestamp);
    }

    /// @notice Pays `amount` from a chama's pot to `recipient`. Admin only.
    /// @param chamaId The chama paying out.
    /// @param recipient The account to pay.
    /// @param amount The amount, in wei; at most the chama's balance.
    function payout(uint256 chamaId, address recipient, uint256 amount) external nonReentrant {
        Group storage group = _existing(chamaId);
        if (msg.sender != group.creator) revert NotAdmin(msg.sender, group.creator);
        if (recipient == address(0)) revert ZeroRecipient();
        if (amount == 0) revert ZeroAmount();
        uint256 available = group.totalContributed - group.totalPaidOut;
        if (amount > available) revert InsufficientBalance(amount, available);

        // Effects before the interaction (checks-effects-interactions), plus the lock above.
        group.totalPaidOut += amount;
        _receivedBy[chamaId][recipient] += amount;
        emit PayoutProcessed(chamaId, recipient, amount, block.timestamp);

        (bool ok,) = recipient.call{value: amount}("");
        if (!ok) revert TransferFailed(recipient);
    }

    /// @notice Number of chamas created; ids run from 1 to this value.
    /// @return The count.
    function chamaCount() external view returns (uint256) {
        return _chamaCount;
    }

    /// @notice A chama's configuration and running totals.
    /// @param chamaId The chama.
    /// @return creator The admin.
    /// @return name The display name.
    /// @return contributionAmount The minimum per contribution.
    /// @return totalContributed Sum of all contributions.
    /// @return totalPaidOut Sum of all payouts.
    function getChama(uint256 chamaId)
        external
        view
        returns (
            address creator,
            string memory name,
            uint256 contributionAmount,
            uint256 totalContributed,
            uint256 totalPaidOut
        )
    {
        Group storage group = _existing(chamaId);
        return (group.creator, group.name, group.contributionAmount, group.totalContributed, group.totalPaidOut);
    }

    /// @notice Total a member has contributed to a chama.
    /// @param chamaId The chama.
    /// @param member The member.
    /// @return The total, in wei.
    function contributedBy(uint256 chamaId, address member) external view returns (uint256) {
        return _contributedBy[chamaId][member];
    }

    /// @notice Total a member has received from a chama.
    /// @param chamaId The chama.
    /// @param member The member.
    /// @return The total, in wei.
    function receivedBy(uint256 chamaId, address member) external view returns (uint256) {
        return _receivedBy[chamaId][member];
    }

    function _existing(uint256 chamaId) private view returns (Group storage group) {
        if (chamaId == 0 || chamaId > _chamaCount) revert UnknownChama(chamaId);
        return _chamas[chamaId];
    }
}
