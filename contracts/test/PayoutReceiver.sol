// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Chama} from "../Chama.sol";

/// @title PayoutReceiver
/// @notice Test-only admin contract for Chama's payout edge cases: it creates and owns a chama,
/// and when paid it either rejects the coin or tries to re-enter `payout`.
contract PayoutReceiver {
    /// @notice How the receiver reacts to an incoming payment.
    enum Mode {
        Accept,
        Reject,
        Reenter
    }

    /// @notice The Chama contract under test.
    Chama public immutable chama;
    /// @notice The chama this contract administers.
    uint256 public chamaId;
    /// @notice The current reaction to incoming payments.
    Mode public mode;

    /// @param chama_ The Chama contract under test.
    constructor(Chama chama_) {
        chama = chama_;
    }

    /// @notice Creates a chama administered by this contract.
    /// @param name The chama's name.
    function create(string calldata name) external {
        chamaId = chama.createChama(name, 0);
    }

    /// @notice Sets how incoming payments are handled.
    /// @param mode_ The new mode.
    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @notice Pays out from the administered chama to `recipient`.
    /// @param recipient The account to pay.
    /// @param amount The amount.
    function pay(address recipient, uint256 amount) external {
        chama.payout(chamaId, recipient, amount);
    }

    receive() external payable {
        if (mode == Mode.Reject) revert("rejected");
        if (mode == Mode.Reenter) chama.payout(chamaId, address(this), msg.value);
    }
}
