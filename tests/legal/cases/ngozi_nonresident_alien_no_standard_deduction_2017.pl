% Text
% Ngozi, who is unmarried, was a nonresident alien for all of 2017. A company paid her $30,000
% for consulting work in 2017. She claims no itemized deductions.
% By hand: §63(c)(6)(B): a nonresident alien individual's standard deduction is zero. One
% exemption of $2,000 (§151(b)). Taxable income $28,000; §1(c)(ii): $3,315 + 28% of
% ($28,000 - $22,100) = $3,315 + $1,652 = $4,967.

% Question
% What is Ngozi's tax for 2017? $4967

% Facts
:- [statutes/prolog/init].
nonresident_alien_(ngozi_status).
agent_(ngozi_status,ngozi).
start_(ngozi_status,"2016-01-01").
end_(ngozi_status,"2018-12-31").
payment_(consulting_fee).
agent_(consulting_fee,acme_company).
patient_(consulting_fee,ngozi).
amount_(consulting_fee,30000).
start_(consulting_fee,"2017-09-30").

% Test
:- tax(ngozi,2017,4967).
:- halt.
