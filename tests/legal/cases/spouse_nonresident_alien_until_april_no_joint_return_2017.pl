% Text
% Vin and Wen have been married since 2012. Wen was a nonresident alien until April 30th, 2017. They
% filed a joint return for 2017; Vin earned $60000, Wen nothing. They do not itemize.
% By hand: Wen was a nonresident alien during part of 2017, so no joint return can be made for 2017
% (§2(a)(2)(B), last sentence): Vin is married and files alone: §1(d). Standard deduction $3,000;
% exemptions: Vin, and Wen (no gross income, no one's dependent, §151(b)): $4,000. Taxable $53,000:
% §1(d)(iii) $10,082.50 + 31% of $8,425 = $12,694.25.

% Question
% How much tax does Vin have to pay in 2017? $12694

% Facts
:- [statutes/prolog/init].
marriage_(vin_wen).
agent_(vin_wen,vin).
agent_(vin_wen,wen).
start_(vin_wen,"2012-01-01").
nonresident_alien_(wen_nra).
agent_(wen_nra,wen).
start_(wen_nra,"2012-01-01").
end_(wen_nra,"2017-04-30").
joint_return_(vin_wen_joint).
agent_(vin_wen_joint,vin).
agent_(vin_wen_joint,wen).
start_(vin_wen_joint,"2017-01-01").
end_(vin_wen_joint,"2017-12-31").
income_(vin_income).
agent_(vin_income,vin).
amount_(vin_income,60000).
start_(vin_income,"2017-12-31").

% Test
:- tax(vin,2017,12694).
:- halt.
