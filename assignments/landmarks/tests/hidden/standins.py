"""Stand-ins for pieces that already lost points in their own parts (sent to the child as text).

This file lives with the hidden tests: students never see it. It holds textbook behaviour
written out in the handout, so a single bug is not paid for twice by the training check.
"""

TRAIN_EPOCH = '''
def train_epoch(data_loader, model, criterion, optimizer):
    model.train()
    for X, y in data_loader:
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()
'''

EARLY_STOPPING = '''
def early_stopping(stats, curr_count_to_patience, global_min_loss):
    if stats[-1][1] < global_min_loss:
        return 0, stats[-1][1]
    return curr_count_to_patience + 1, global_min_loss
'''
