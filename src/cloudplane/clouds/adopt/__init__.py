"""Adopting a cloud that another tool built: find its pieces in a CloudFormation stack or a Terraform state,
and turn them into the flags of `cloud register`. Nothing found here changes anything in AWS."""
