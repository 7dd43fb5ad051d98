% Text
% Dmitri married Elena on June 12th, 2010. For 2017 Dmitri files a joint return with his wife.
% Dmitri's salary for 2017 was $70,000 and Elena's consulting fees came to $30,150. Neither
% itemizes, and they have no children.
% (The joint return is stated the way "Dmitri files a joint return with Elena" reads: Dmitri its
% agent, Elena its patient; the marriage likewise.)
% By hand: §1(a), joint return. Gross income $100,150; §63(c)(2)(A)(i): 200% of $3,000 =
% $6,000; two exemptions of $2,000 (§151(b)). Taxable income $100,150 - $6,000 - $4,000 =
% $90,150; §1(a)(iii): $20,165 + 31% of ($90,150 - $89,150) = $20,475.
% Before, a joint return needed both spouses as agents: Dmitri was taxed as married filing
% separately on his own $70,000.

% Question
% What is the tax that Dmitri must pay for 2017? $20475

% Facts
:- [statutes/prolog/init].
joint_return_(dmitri_joint_return_2017).
agent_(dmitri_joint_return_2017,dmitri).
patient_(dmitri_joint_return_2017,elena).
start_(dmitri_joint_return_2017,"2017-01-01").
end_(dmitri_joint_return_2017,"2017-12-31").
marriage_(dmitri_weds_elena).
agent_(dmitri_weds_elena,dmitri).
patient_(dmitri_weds_elena,elena).
start_(dmitri_weds_elena,"2010-06-12").
income_(elena_fees).
agent_(elena_fees,elena).
amount_(elena_fees,30150).
start_(elena_fees,"2017-11-30").
payment_(dmitri_salary).
agent_(dmitri_salary,dmitri_employer).
patient_(dmitri_salary,dmitri).
amount_(dmitri_salary,70000).
start_(dmitri_salary,"2017-12-31").

% Test
:- tax(dmitri,2017,20475).
:- halt.
